//! `tinyvex serve`: the live sync server until Ctrl-C or SIGTERM.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use tinyvex_providers::SourceEnv;
use tinyvex_server::{token_path, Server, ServerConfig, Token};

use crate::cli::{GlobalArgs, ServeArgs};
use crate::paths;

pub fn run(global: &GlobalArgs, args: ServeArgs) -> Result<ExitCode> {
    if !(args.rescan_every.is_finite() && args.rescan_every > 0.0) {
        bail!("--rescan-every must be a positive number of seconds");
    }
    let db = paths::db_path(global.db.clone())?;
    let dir = super::data_dir(global)?;
    let token = Token::load_or_create(&dir)?;
    let config = ServerConfig {
        db,
        sources: SourceEnv::from_process(),
        listen: args.listen,
        token: token.clone(),
        allow_origins: args.allow_origins,
        rescan_every: Duration::from_secs_f64(args.rescan_every),
        store: args.store.options(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("tinyvex-server")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let db_display = config.db.display().to_string();
        let server = Server::start(config).await?;
        let addr = server.local_addr();
        if args.json {
            println!(
                "{}",
                serde_json::json!({
                    "listen": addr.to_string(),
                    "ws": format!("ws://{addr}/ws"),
                    "url": format!("http://{addr}/"),
                    "token_file": token_path(&dir).display().to_string(),
                })
            );
        } else {
            writeln!(
                std::io::stdout().lock(),
                "tinyvex listening on http://{addr}/ (WebSocket ws://{addr}/ws)"
            )?;
        }
        std::io::stdout().flush()?;
        if !global.quiet {
            eprintln!("store: {db_display}");
            eprintln!(
                "token: {} (from {}; `tinyvex token` prints it)",
                token.secret(),
                token_path(&dir).display()
            );
            // The token rides in the fragment, which browsers never send to
            // the server; the page moves it to sessionStorage and drops it
            // from the address bar.
            eprintln!("open: http://{addr}/#token={}", token.secret());
        }
        let signal = shutdown_signal().await;
        tracing::info!("{signal}: shutting down");
        if !global.quiet {
            eprintln!("{signal}: closing connections and committing what was read...");
        }
        server.shutdown().await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Wait for Ctrl-C or SIGTERM; returns which one came.
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("install SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => "interrupted",
            _ = term.recv() => "terminated",
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "interrupted"
    }
}
