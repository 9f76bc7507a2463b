//! The tool port: asking an installed program which version it is (what `doctor` reports).

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;

/// Runs `<program> --version`.
#[async_trait]
pub trait ToolProbe: Send + Sync {
    /// The first line the program prints within `timeout`, or why it could not be had.
    async fn version(&self, program: &Path, timeout: Duration) -> Result<String, String>;
}
