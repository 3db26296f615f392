//! The access token: created once, stored with mode 0600 beside the store,
//! compared in constant time.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::Error;

/// File name of the token in the data directory.
pub const TOKEN_FILE: &str = "token";

/// A secret that every connection must present.
#[derive(Clone)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret by accident (logs, panics).
        f.write_str("Token(..)")
    }
}

impl Token {
    /// A token from its text (tests, or a token given by the user).
    pub fn new(secret: impl Into<String>) -> Token {
        Token(secret.into())
    }

    /// 32 random bytes, hex-encoded: valid in a header, a URL and a
    /// WebSocket subprotocol name.
    pub fn generate() -> Result<Token, Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| Error::Token(format!("no randomness: {e}")))?;
        Ok(Token(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    /// The token stored in `dir`, created (mode 0600) when there is none.
    pub fn load_or_create(dir: &Path) -> Result<Token, Error> {
        let path = token_path(dir);
        match std::fs::read_to_string(&path) {
            Ok(text) if !text.trim().is_empty() => {
                warn_if_readable_by_others(&path);
                return Ok(Token(text.trim().to_string()));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::Token(format!("cannot read {}: {e}", path.display()))),
        }
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Token(format!("cannot create {}: {e}", dir.display())))?;
        let token = Token::generate()?;
        // Write a temporary file created 0600, then rename: the secret is
        // never readable by others, and a crash leaves no half token.
        let tmp = dir.join(format!(".{TOKEN_FILE}.{}", std::process::id()));
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options
            .open(&tmp)
            .and_then(|mut f| f.write_all(format!("{}\n", token.0).as_bytes()))
            .and_then(|()| std::fs::rename(&tmp, &path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(Error::Token(format!(
                "cannot write {}: {e}",
                path.display()
            )));
        }
        tracing::info!(path = %path.display(), "created a new access token");
        Ok(token)
    }

    /// The secret, for printing to its owner (`tinyvex token`).
    pub fn secret(&self) -> &str {
        &self.0
    }

    /// Compare with a presented token in constant time.
    pub fn matches(&self, presented: &str) -> bool {
        constant_time_eq::constant_time_eq(self.0.as_bytes(), presented.as_bytes())
    }
}

/// Where the token of the data directory `dir` lives.
pub fn token_path(dir: &Path) -> PathBuf {
    dir.join(TOKEN_FILE)
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "the token file is readable by other users; run `chmod 600` on it");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_with_owner_only_mode_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let a = Token::load_or_create(dir.path()).unwrap();
        assert_eq!(a.secret().len(), 64);
        assert!(a.secret().bytes().all(|b| b.is_ascii_hexdigit()));
        let b = Token::load_or_create(dir.path()).unwrap();
        assert_eq!(a.secret(), b.secret());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(token_path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_ne!(a.secret(), Token::generate().unwrap().secret());
    }

    #[test]
    fn matches_only_the_same_secret() {
        let t = Token::new("abc123");
        assert!(t.matches("abc123"));
        assert!(!t.matches("abc124"));
        assert!(!t.matches("abc12"));
        assert!(!t.matches(""));
        assert_eq!(format!("{t:?}"), "Token(..)");
    }
}
