//! The `rdpl` launcher: command line, configuration, and the commands.
//!
//! Flow of one run: [`cli`] parses -> [`config`] merges flags and environment -> a command in [`commands`]
//! does its work through a [`ui::Ui`] -> an [`exit::Exit`] code. Errors are printed once, as a chain, with
//! `help:` lines.

pub mod child;
pub mod cli;
pub mod commands;
pub mod config;
mod entry;

pub mod credentials;
mod demo;
pub mod demo_server;
pub mod exit;
pub mod exporter;
pub mod handoff;
pub mod integrate;
pub mod json;
pub mod lookup;
pub mod native;
pub mod output;
pub mod pipeline;
pub mod probe;
pub mod publisher;
pub mod session;
pub mod signing;
pub mod suggest;
pub mod ui;

#[cfg(test)]
mod layering;

pub use entry::{main_entry, run};
