//! The `runner` container entrypoint (seed 002, Runner Platform Contract
//! v0.2.0 with the 0.2.x security fixes).
//!
//! Not implemented yet; see the runner issue. The strict identity-file
//! parser it relies on already lives in [`dcx_contracts::identity`].
