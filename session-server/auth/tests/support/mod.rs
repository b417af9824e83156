//! Helpers shared by the integration tests of `matinee-auth`.
#![allow(dead_code)]

pub mod fake_jellyfin;
pub mod mint;
