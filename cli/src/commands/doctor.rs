//! `aoctl doctor`: the daemon's checks of tmux, git, the socket, the store and the agent CLIs;
//! exit code 1 when one fails.

use clap::Args;

use super::QUICK;
use crate::Global;
use crate::client::{self, Result, ctx, exit};
use crate::render;

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[arg(long)]
    json: bool,
}

pub async fn run(global: &Global, args: DoctorArgs) -> Result<u8> {
    let daemon = client::connect(global).await?;
    let checks = daemon.client.doctor(ctx(QUICK)).await?;
    render::json_or(args.json, checks.as_slice(), render::doctor_checks);
    Ok(if checks.iter().all(|c| c.ok) {
        exit::OK
    } else {
        exit::FAILED
    })
}
