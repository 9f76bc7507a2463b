//! `ao-proto`: the contract between `aoctl` and `aod`.
//!
//! Not yet written: the tarpc service trait and its wire types arrive with the runner (issue 6).
//! This crate compiles empty so the workspace has its final shape from the start.
