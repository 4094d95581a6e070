//! dcx-runner's integration tests, one binary: the Runner Platform contract
//! suite, the files under docker/, and the process and document checks
//! beyond the contract. `support` stages the image roots.

mod contract;
mod image_files;
mod process;
mod support;
