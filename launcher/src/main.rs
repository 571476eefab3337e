//! The `rdpl` binary: everything is in the library; this only hands over the process's world.

fn main() -> std::process::ExitCode {
    rdpl::main_entry()
}
