//! Default locations shared by `aod` and `aoctl`: where the daemon keeps its data, reads its
//! configuration, and listens.

use std::path::PathBuf;

/// `AO_DATA_DIR` default: the XDG data directory (`~/.local/share/ao`).
pub fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "ao")
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| std::env::temp_dir().join(format!("ao-data-{}", uid())))
}

/// `AO_CONFIG` default: `~/.config/ao/config.toml`.
pub fn default_config_file() -> PathBuf {
    directories::ProjectDirs::from("", "", "ao")
        .map(|d| d.config_dir().join("config.toml"))
        .unwrap_or_else(|| PathBuf::from("/etc/ao/config.toml"))
}

/// `AO_SOCKET` default: `$XDG_RUNTIME_DIR/ao/aod.sock`, else `/tmp/ao-<uid>/aod.sock`.
pub fn default_socket() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("ao").join("aod.sock"),
        None => std::env::temp_dir()
            .join(format!("ao-{}", uid()))
            .join("aod.sock"),
    }
}

/// The real user id of this process.
pub fn uid() -> u32 {
    nix::unistd::getuid().as_raw()
}
