//! Project registration: what `aoctl project add/ls/rm` and the configuration file's
//! `[[projects]]` do. Everything is validated when the project is added, so a spawn never trips
//! over a bad setting later.

use std::path::PathBuf;

use tracing::{info, warn};

use super::{SessionManager, SmError, validate};
use crate::domain::{Project, ProjectId, ProjectSettings, quote, quote_within};
use crate::ports::{AgentCatalog, SetupError, WorkspaceError};

/// A project to register.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProjectSpec {
    pub name: String,
    pub repo_path: PathBuf,
    pub base_branch: Option<String>,
    pub default_agent: Option<String>,
    /// What every new worktree gets, kept as the project's settings once validated.
    pub settings: ProjectSettings,
}

impl SessionManager {
    /// Validates and registers a project. The repository path is resolved to its main work
    /// tree's top level (a linked worktree's is its repository's); a repository has one project.
    pub async fn add_project(&self, spec: ProjectSpec) -> Result<Project, SmError> {
        let invalid = |why: String| SmError::InvalidProject(why);
        let id = ProjectId::parse(&spec.name).map_err(|e| invalid(e.to_string()))?;
        let repo = self
            .workspace
            .repo_root(&spec.repo_path)
            .await
            .map_err(|e| {
                let path = spec.repo_path.to_string_lossy();
                let why = match e {
                    missing @ WorkspaceError::RepoMissing(_) => {
                        return invalid(missing.to_string());
                    }
                    WorkspaceError::Git { output, .. } => output,
                    other => other.to_string(),
                };
                invalid(format!(
                    "{} is not a git repository: {}",
                    quote(&path),
                    quote_within(&why, &path)
                ))
            })?;
        if let Some(base) = &spec.base_branch {
            self.workspace
                .check_branch(&repo, base)
                .await
                .map_err(|e| invalid(format!("base branch: {e}")))?;
        }
        // A spawn needs a commit to start from: the base branch, else the default branch.
        self.workspace
            .check_base(&repo, spec.base_branch.as_deref())
            .await
            .map_err(|e| invalid(e.to_string()))?;
        if let Some(agent) = &spec.default_agent
            && self.agents.get(agent).is_none()
        {
            let known: Vec<&str> = self.agents.names().collect();
            return Err(invalid(format!(
                "unknown default agent {} (known: {})",
                quote(agent),
                known.join(", ")
            )));
        }
        let settings = spec.settings;
        for path in settings.symlinks.iter().chain(&settings.copies) {
            if crate::domain::relative_setup_path(path).is_none() {
                return Err(invalid(SetupError::UnsafePath(path.to_owned()).to_string()));
            }
        }
        for pattern in &settings.exclude {
            if pattern.trim().is_empty() || pattern.contains(['\n', '\r', '\0']) {
                return Err(invalid(format!(
                    "exclude pattern {} must be one non-empty line",
                    quote(pattern)
                )));
            }
        }
        for (i, argv) in settings.post_create.iter().enumerate() {
            validate::program(&format!("post-create command {}", i + 1), argv)
                .map_err(|e| invalid(e.to_string()))?;
        }
        validate::env("env", &settings.env).map_err(|e| invalid(e.to_string()))?;
        // One project per repository: a second would make a bare `spawn` there ambiguous.
        if let Some(other) = self
            .store
            .projects()
            .await?
            .into_iter()
            .find(|p| p.id != id && p.repo_path == repo)
        {
            return Err(invalid(format!(
                "{} is already registered as project {}; spawn there with `-p {}`, or remove \
                 that project first",
                quote(&repo.to_string_lossy()),
                other.id,
                other.id
            )));
        }
        let project = Project {
            id,
            repo_path: repo,
            default_agent: spec.default_agent,
            base_branch: spec.base_branch,
            settings,
            created_at: self.clock.now(),
        };
        self.store.add_project(&project).await?;
        Ok(project)
    }

    pub async fn projects(&self) -> Result<Vec<Project>, SmError> {
        Ok(self.store.projects().await?)
    }

    /// Unregisters a project. Refused while it has live sessions (their teardown needs the
    /// repository); terminal sessions keep their records.
    pub async fn remove_project(&self, id: &ProjectId) -> Result<bool, SmError> {
        let live = self
            .store
            .list(Some(id))
            .await?
            .into_iter()
            .filter(|r| !r.is_terminal())
            .count();
        if live > 0 {
            return Err(SmError::InvalidProject(format!(
                "project {id} has {live} live session(s); kill them first"
            )));
        }
        Ok(self.store.remove_project(id).await?)
    }

    /// Registers each project of the configuration file that is not registered yet; one that
    /// is, or that fails to register, is left as it is, with a warning for a failure.
    pub async fn add_missing_projects(&self, specs: &[ProjectSpec]) {
        for spec in specs {
            let known = match ProjectId::parse(&spec.name) {
                Ok(id) => self.store.project(&id).await.ok().flatten().is_some(),
                Err(e) => {
                    warn!(project = %spec.name, error = %e, "configuration: invalid project id; skipped");
                    continue;
                }
            };
            if known {
                continue;
            }
            match self.add_project(spec.clone()).await {
                Ok(_) => info!(project = %spec.name, "registered project from the configuration"),
                Err(e) => {
                    warn!(project = %spec.name, error = %e, "configuration: project not registered")
                }
            }
        }
    }

    /// Whether `agent` is a configured harness that reports hooks.
    pub fn hook_capable(&self, agent: &str) -> bool {
        self.agents.capabilities(agent).hook_capable
    }
}
