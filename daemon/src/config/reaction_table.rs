//! `[reactions.<key>]`: overrides of the reaction table (what a reaction does, how many sends it
//! gets per incident, when it escalates), checked against what each reaction can do.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow, bail};
use ao::decide::reactions::{ReactionAction, ReactionPolicies, can_send_to_agent};
use ao::domain::ReactionKey;
use serde::Deserialize;

use super::file::HumanDuration;

/// `[reactions.<key>]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReactionSection {
    pub action: Option<ReactionAction>,
    pub retries: Option<u32>,
    pub escalate_after: Option<HumanDuration>,
}

/// The default table with the file's overrides applied; a reaction without a message for the
/// agent cannot be made `send-to-agent`.
pub fn reaction_policies(sections: &BTreeMap<String, ReactionSection>) -> Result<ReactionPolicies> {
    let mut policies = ReactionPolicies::default();
    for (name, section) in sections {
        let key: ReactionKey = name
            .parse()
            .map_err(|_| anyhow!("unknown reaction [reactions.{name}]"))?;
        if let Some(action) = section.action {
            if action == ReactionAction::SendToAgent && !can_send_to_agent(key) {
                bail!(
                    "[reactions.{name}] cannot be send-to-agent (it has no message for the agent)"
                );
            }
            policies.set_action(key, action);
        }
        if let Some(retries) = section.retries {
            policies.set_retries(key, retries);
        }
        if let Some(after) = section.escalate_after {
            policies.set_escalate_after(key, Some(after.0));
        }
    }
    Ok(policies)
}
