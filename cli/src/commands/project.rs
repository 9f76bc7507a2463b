//! `aoctl project add|ls|rm`: the git repositories sessions are spawned from. A project's
//! symlinked and copied files land in every new worktree, and its post-create commands (split
//! like a shell would, no shell runs) run there before the agent starts.

use std::path::PathBuf;

use ao_proto::ProjectAddRequest;
use clap::Subcommand;
use clap_complete::engine::ArgValueCandidates;

use super::QUICK;
use crate::Global;
use crate::client::{self, CliError, Result, ctx, exit};
use crate::complete;
use crate::render;

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Register a repository.
    Add {
        name: String,
        repo_path: PathBuf,
        /// The branch new branches start from (default: origin's HEAD).
        #[arg(long)]
        base: Option<String>,
        /// The default agent for this project.
        #[arg(long, add = ArgValueCandidates::new(complete::agents))]
        agent: Option<String>,
        /// A repository file to symlink into every new worktree (repeatable).
        #[arg(long)]
        symlink: Vec<String>,
        /// A repository file or directory to copy into every new worktree (repeatable).
        #[arg(long)]
        copy: Vec<String>,
        /// A command to run in every new worktree before the agent starts (repeatable; split
        /// like a shell would, no shell runs).
        #[arg(long)]
        post_create: Vec<String>,
        /// A gitignore pattern for every new worktree's exclude file, for what post-create
        /// commands make (repeatable; e.g. `node_modules/`).
        #[arg(long)]
        exclude: Vec<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List projects.
    #[command(alias = "list")]
    Ls {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Unregister a project (refused while it has live sessions).
    #[command(alias = "remove")]
    Rm {
        #[arg(add = ArgValueCandidates::new(complete::projects))]
        name: String,
    },
}

pub async fn run(global: &Global, command: ProjectCommand) -> Result<u8> {
    let daemon = client::connect(global).await?;
    match command {
        ProjectCommand::Add {
            name,
            repo_path,
            base,
            agent,
            symlink,
            copy,
            post_create,
            exclude,
            json,
        } => {
            let post_create = post_create
                .iter()
                .map(|c| {
                    shell_words::split(c).map_err(|e| {
                        CliError::usage(format!("--post-create {}: {e}", ao_core::domain::quote(c)))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let repo = std::path::absolute(&repo_path).unwrap_or(repo_path);
            let request = ProjectAddRequest {
                name,
                repo_path: repo.display().to_string(),
                base_branch: base,
                default_agent: agent,
                symlinks: symlink,
                copies: copy,
                post_create,
                env: vec![],
                exclude,
            };
            let project = daemon.client.project_add(ctx(QUICK), request).await??;
            render::json_or(json, &project, render::project_added);
        }
        ProjectCommand::Ls { json } => {
            let projects = daemon.client.project_list(ctx(QUICK)).await??;
            render::json_or(json, projects.as_slice(), render::projects);
        }
        ProjectCommand::Rm { name } => {
            if !daemon
                .client
                .project_remove(ctx(QUICK), name.clone())
                .await??
            {
                return Err(CliError::new(
                    exit::NOT_FOUND,
                    format!("project {name} not found"),
                ));
            }
            render::project_removed(&name);
        }
    }
    Ok(exit::OK)
}
