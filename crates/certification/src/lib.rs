//! Runner certification (seed 000 `runner-certify`): runs a lane's adapter
//! against its registry entry and writes an execution certificate with
//! `intent-v1` / `json-c14n-v1` proofs; verifies certificates.
//!
//! Not implemented yet; see the certification issue. The certificate type and
//! the hashing it needs already live in [`dcx_contracts::certification`],
//! [`dcx_contracts::intent`] and [`dcx_contracts::c14n`].
