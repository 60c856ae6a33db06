//! Where local model directories are found.
//!
//! Owns the search order for a model directory that was not configured explicitly. Invariant:
//! a configured path is used as given (never silently replaced by another); an unconfigured one
//! is looked for, in order, under the working directory, under the directories above the running
//! executable (so `target/release/memvox` finds the repository's `models/`), and under the
//! repository this crate was built from. A miss names every place looked at and the fix.

use std::path::{Path, PathBuf};

use crate::AiError;

/// How many directories above the executable's own are searched (`target/release/examples/x`
/// is three below the repository root).
const EXE_ANCESTORS: usize = 4;

/// Returns the model directory: `configured` if set and present, else the first existing
/// `default_relative` under the search roots. `fix` says how to obtain the model.
pub(crate) fn resolve_model_dir(
    configured: Option<&Path>,
    default_relative: &str,
    fix: &str,
) -> Result<PathBuf, AiError> {
    if let Some(path) = configured {
        return if path.is_dir() {
            Ok(path.to_path_buf())
        } else {
            Err(AiError::ModelMissing {
                path: path.to_path_buf(),
                fix: format!("the configured model_path does not exist; {fix}"),
            })
        };
    }
    let candidates = candidates(default_relative);
    if let Some(found) = candidates.iter().find(|p| p.is_dir()) {
        return Ok(found.clone());
    }
    let looked: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
    Err(AiError::ModelMissing {
        path: PathBuf::from(default_relative),
        fix: format!("{fix} (looked in: {})", looked.join(", ")),
    })
}

/// Checks that model directory `dir` holds each of `files`: else [`AiError::ModelMissing`]
/// naming the first missing one, with `fix` (how to obtain the model).
pub(crate) fn require_files(dir: &Path, files: &[&str], fix: &str) -> Result<(), AiError> {
    for file in files {
        let path = dir.join(file);
        if !path.is_file() {
            return Err(AiError::ModelMissing {
                path,
                fix: fix.to_owned(),
            });
        }
    }
    Ok(())
}

/// Search roots joined with `relative`, most specific first, without duplicates.
fn candidates(relative: &str) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        roots.push(cwd);
    }
    if let Ok(exe) = std::env::current_exe() {
        roots.extend(
            exe.ancestors()
                .skip(1)
                .take(EXE_ANCESTORS)
                .map(Path::to_path_buf),
        );
    }
    roots.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
    let mut out: Vec<PathBuf> = Vec::new();
    for root in roots {
        let candidate = root.join(relative);
        let candidate = candidate.canonicalize().unwrap_or(candidate);
        if !out.contains(&candidate) {
            out.push(candidate);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_path_is_used_as_given() {
        let dir = tempfile::tempdir().unwrap();
        let got = resolve_model_dir(Some(dir.path()), "models/x", "fix it").unwrap();
        assert_eq!(got, dir.path());
    }

    #[test]
    fn missing_configured_path_names_path_and_fix() {
        let err = resolve_model_dir(Some(Path::new("/nonexistent/m")), "models/x", "run x.sh")
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("/nonexistent/m") && msg.contains("run x.sh"),
            "{msg}"
        );
        assert!(!err.retryable());
    }

    #[test]
    fn default_is_found_in_the_repository() {
        let found = resolve_model_dir(None, "libs/ai/src", "unused").unwrap();
        assert!(found.join("lib.rs").is_file());
    }

    #[test]
    fn missing_default_lists_where_it_looked() {
        let msg = resolve_model_dir(None, "models/no-such-model", "run fetch.sh")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("models/no-such-model") && msg.contains("looked in"),
            "{msg}"
        );
        assert!(msg.contains("run fetch.sh"), "{msg}");
    }
}
