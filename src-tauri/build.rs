//! Reads `tauri.conf.json` (top level, beside this package's Cargo.toml) and resolves the
//! capabilities kept in `src-tauri/capabilities/` against the app's permissions. Those are in
//! `permissions/commands.toml`, generated from the command list in `lib.rs` with the UI's
//! bindings (`cargo xtask bindings`): their presence makes Tauri check every app command
//! against the capabilities, so a command runs only where one grants it.

fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    println!("cargo:rerun-if-changed=ui/dist");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("src-tauri/capabilities/**/*.json"),
    )
    .expect("tauri-build failed");
}
