//! `tinyvex token`: show (creating on first use) the server's access token.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use tinyvex_server::{token_path, Token};

use crate::cli::{GlobalArgs, TokenArgs};
use crate::printer;

pub fn run(global: &GlobalArgs, args: TokenArgs) -> Result<ExitCode> {
    let dir = super::data_dir(global)?;
    let token = Token::load_or_create(&dir)?;
    let path = token_path(&dir);
    if args.json {
        printer::json(&serde_json::json!({
            "token": token.secret(),
            "path": path.display().to_string(),
        }))?;
    } else {
        writeln!(std::io::stdout().lock(), "{}", token.secret())?;
    }
    Ok(ExitCode::SUCCESS)
}
