//! Embeds the API's OpenAPI document as JSON: openapi.yaml is converted here, at build time, so
//! `GET /v1/openapi.json` serves a constant and nothing parses YAML at run time.

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Read when the script runs, not baked in when it is compiled, so a moved checkout (or a
    // reused target directory) never reads another tree's openapi.yaml.
    let source = Path::new(&std::env::var("CARGO_MANIFEST_DIR")?).join("../../openapi.yaml");
    println!("cargo::rerun-if-changed={}", source.display());
    let yaml = std::fs::read_to_string(&source)
        .map_err(|e| format!("reading {}: {e}", source.display()))?;
    let document: serde_json::Value =
        serde_yaml::from_str(&yaml).map_err(|e| format!("openapi.yaml is not valid YAML: {e}"))?;
    let out = Path::new(&std::env::var("OUT_DIR")?).join("openapi.json");
    std::fs::write(out, serde_json::to_string(&document)?)?;
    Ok(())
}
