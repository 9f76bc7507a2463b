//! `LifecyclePatch`: a sparse change to a session record.
//!
//! The LCM turns every decision into a patch that names only the axes it changes; the store
//! applies it under a revision compare-and-swap. An empty patch is a no-op and is never written.

use std::collections::BTreeSet;

use super::record::{
    ActivityAxis, DetectingMemory, Launch, Metadata, PrAxis, RuntimeAxis, SessionAxis,
    SessionRecord,
};

/// A sparse change to a record. `None` fields are left untouched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LifecyclePatch {
    pub session: Option<SessionAxis>,
    pub pr: Option<PrAxis>,
    pub runtime: Option<RuntimeAxis>,
    pub activity: Option<ActivityAxis>,
    /// `Some(None)` clears the quarantine memory.
    pub detecting: Option<Option<DetectingMemory>>,
    pub launch: Option<Launch>,
    /// Merge patch: non-empty values overwrite, other keys are kept.
    pub metadata: Metadata,
    /// Replaces the whole map (used only to revert a failed restore).
    pub replace_metadata: Option<Metadata>,
    /// Keys removed (after a replacement, before the merge). Planners name only keys the record
    /// holds, so a removal is always a change.
    pub remove_metadata: BTreeSet<String>,
}

impl LifecyclePatch {
    pub fn is_empty(&self) -> bool {
        self.session.is_none()
            && self.pr.is_none()
            && self.runtime.is_none()
            && self.activity.is_none()
            && self.detecting.is_none()
            && self.launch.is_none()
            && self.metadata.values().all(String::is_empty)
            && self.replace_metadata.is_none()
            && self.remove_metadata.is_empty()
    }

    /// Applies the patch to `record`. Identity, revision and timestamps are the store's job.
    pub fn apply_to(&self, record: &mut SessionRecord) {
        let lc = &mut record.lifecycle;
        if let Some(session) = self.session {
            lc.session = session;
        }
        if let Some(pr) = &self.pr {
            lc.pr = pr.clone();
        }
        if let Some(runtime) = self.runtime {
            lc.runtime = runtime;
        }
        if let Some(activity) = self.activity {
            lc.activity = activity;
        }
        if let Some(detecting) = &self.detecting {
            lc.detecting = detecting.clone();
        }
        if let Some(launch) = &self.launch {
            record.launch = launch.clone();
        }
        if let Some(all) = &self.replace_metadata {
            record.metadata = all.clone();
        }
        record
            .metadata
            .retain(|key, _| !self.remove_metadata.contains(key));
        record.merge_metadata(self.metadata.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    }

    /// The record after the patch.
    pub fn applied(&self, record: &SessionRecord) -> SessionRecord {
        let mut next = record.clone();
        self.apply_to(&mut next);
        next
    }
}
