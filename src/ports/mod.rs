//! Ports: the traits through which orchestration talks to the world.
//!
//! Orchestration (`lifecycle`, `session`, `reaper`, `reaction_dispatch`, `messages`) depends only
//! on these traits; adapters implement them. Each trait covers one concern and its facts are the
//! plain data types of `crate::domain`.

mod agent;
mod clock;
mod code_host;
mod long_poll;
mod messenger;
mod notifier;
mod runtime;
mod store;
#[cfg(any(test, feature = "testkit"))]
pub mod store_contract;
mod tools;
mod workspace;

pub use agent::{
    AgentCapabilities, AgentCatalog, AgentError, AgentHarness, HookInstall, LaunchConfig,
    PermissionMode, PromptDelivery, RestoreConfig,
};
pub use clock::Clock;
pub use code_host::{Conditional, DetailRequest, OpenPrPage, Pacing, ScmError, ScmProvider};
pub use long_poll::long_poll_events;
pub use messenger::{AgentMessenger, MessengerError};
pub use notifier::Notifier;
pub use runtime::{
    LastLines, OutputChunk, PaneInfo, PaneProbe, ProbeTarget, Runtime, RuntimeConfig, RuntimeError,
    Submit,
};
pub use store::{
    Backend, Created, EVENTS_PAGE_MAX, EVENTS_WAIT_MAX, EventLog, EventPage, MessageStore,
    NewSession, ProjectStore, ReactionStore, RecordReader, RecordWrite, RecordWriter,
    ScmSnapshotStore, Store, StoreError,
};
pub use tools::ToolProbe;
pub use workspace::{
    BranchPrune, ProjectSetup, RetireMode, Retired, SetupError, SetupProgress, TrashEmptied,
    TrashEntry, TrashRepair, TrashState, Workspace, WorkspaceError, WorkspaceInfo,
    WorkspaceRequest, WorktreeStatus,
};
