//! Headless Chromium driven through WebDriver for the verification page's browser tests: Debian's
//! `chromium` and `chromedriver` (no browser download), a fresh profile per session, nothing
//! but loopback; axe-core (`tests/browser/node_modules`, installed by `npm ci`) injected into
//! the page to check accessibility; screenshots kept under `target/test-artifacts/web/`.
//!
//! A missing browser, driver or axe-core skips the tests with a message, or fails them when
//! `SEGEL_REQUIRE_TOOLS=1` (see [`crate::tool`]).

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::{required, root, tool};

/// How long anything in the browser may take: generous, for a loaded 2-core machine. Waits
/// poll and return as soon as the state is there.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// The accessibility rules the page must pass: WCAG 2.0 and 2.1, levels A and AA.
pub const AXE_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/// How a session's browser is set up.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Window width in CSS pixels.
    pub width: u32,
    /// Window height in CSS pixels.
    pub height: u32,
    /// Whether pages may run scripts.
    pub javascript: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            width: 1280,
            height: 900,
            javascript: true,
        }
    }
}

/// A chromedriver child process with one Chromium session; the driver (and with it the
/// browser) is killed on drop.
pub struct Browser {
    client: Option<Client>,
    driver: Child,
    _profile: tempfile::TempDir,
    _turn: tokio::sync::SemaphorePermit<'static>,
}

/// At most this many browsers at once in a test process: each is several processes, and the
/// machine may have two cores for everything.
static BROWSERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// One accessibility violation reported by axe-core.
#[derive(Debug, Clone)]
pub struct Violation {
    /// The rule's id (`color-contrast`, `label`, …).
    pub id: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: String,
    /// The rule's one-line description.
    pub help: String,
    /// CSS selectors of the offending elements.
    pub targets: Vec<String>,
}

impl Violation {
    /// Serious and critical violations fail the tests.
    pub fn blocking(&self) -> bool {
        matches!(self.impact.as_str(), "serious" | "critical")
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {} at {}",
            self.id,
            self.impact,
            self.help,
            self.targets.join(", ")
        )
    }
}

/// The axe-core script, or `None` (with a message, or a failure when tools are required)
/// when `npm ci` has not been run in `tests/browser`.
pub fn axe_source() -> Option<String> {
    let path = root().join("tests/browser/node_modules/axe-core/axe.min.js");
    match std::fs::read_to_string(&path) {
        Ok(s) => Some(s),
        Err(e) => {
            assert!(
                !required(),
                "axe-core is not installed ({}: {e}); run the README's test command",
                path.display()
            );
            eprintln!(
                "skipping the browser tests: axe-core is not installed (npm ci in tests/browser)"
            );
            None
        }
    }
}

/// Where the browser tests keep their screenshots: `target/test-artifacts/web/` (under
/// `CARGO_TARGET_DIR` when that is set).
pub fn artifacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_absolute() { t } else { root().join(t) })
        .unwrap_or_else(|| root().join("target"));
    target.join("test-artifacts/web")
}

/// A loopback port nobody listens on right now.
fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("binding a free port")?;
    Ok(l.local_addr()?.port())
}

impl Browser {
    /// Start chromedriver and a headless Chromium session, or `None` when either is not
    /// installed (and tools are not required).
    ///
    /// # Errors
    /// The driver did not start or did not open a session within [`PATIENCE`].
    pub async fn start(options: Options) -> Result<Option<Browser>> {
        let (Some(chromium), Some(chromedriver)) = (tool("chromium"), tool("chromedriver")) else {
            return Ok(None);
        };
        let turn = BROWSERS.acquire().await.context("waiting for a browser")?;
        let profile = tempfile::tempdir().context("profile folder")?;
        let port = free_port()?;
        let log = profile.path().join("chromedriver.log");
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that drop ends it with every browser it started.
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {}", chromedriver.display()))?;
        let mut browser = Browser {
            client: None,
            driver,
            _profile: profile,
            _turn: turn,
        };
        browser.wait_for_driver(port, &log).await?;

        let mut args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-extensions".into(),
            format!("--window-size={},{}", options.width, options.height),
            format!(
                "--user-data-dir={}",
                browser._profile.path().join("profile").display()
            ),
        ];
        let mut prefs = json!({});
        if !options.javascript {
            args.push("--blink-settings=scriptEnabled=false".into());
            prefs = json!({ "profile.managed_default_content_settings.javascript": 2 });
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": chromium, "args": args, "prefs": prefs }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .with_context(|| {
                format!(
                    "opening a Chromium session:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            })?;
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(PATIENCE),
                Some(PATIENCE),
                None,
            ))
            .await
            .context("setting the session's timeouts")?;
        // The viewport's size as asked: the window-size flag sizes the outer window, so grow it
        // by what the browser's frame takes.
        let inner = client
            .execute(
                "return [window.innerWidth, window.innerHeight];",
                Vec::new(),
            )
            .await
            .context("reading the viewport's size")?;
        let (outer_w, outer_h) = client
            .get_window_size()
            .await
            .context("reading the window's size")?;
        let dim = |i: usize| inner.get(i).and_then(Value::as_u64).unwrap_or(0);
        let grow = |outer: u64, inner: u64, want: u32| {
            u32::try_from(outer.saturating_sub(inner)).unwrap_or(0) + want
        };
        client
            .set_window_size(
                grow(outer_w, dim(0), options.width),
                grow(outer_h, dim(1), options.height),
            )
            .await
            .context("sizing the window")?;
        browser.client = Some(client);
        Ok(Some(browser))
    }

    /// Poll until the driver accepts connections on `port`, or fail if it exits or takes
    /// longer than [`PATIENCE`].
    async fn wait_for_driver(&mut self, port: u16, log: &Path) -> Result<()> {
        let start = Instant::now();
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(());
            }
            if let Some(status) = self.driver.try_wait()? {
                bail!(
                    "chromedriver exited ({status}) before listening:\n{}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            ensure!(
                start.elapsed() < PATIENCE,
                "chromedriver did not listen on port {port} within {PATIENCE:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The WebDriver session.
    pub fn client(&self) -> &Client {
        // Set by start() before the browser is handed out.
        self.client.as_ref().expect("a started session")
    }

    /// Open `url` and wait for it to load.
    ///
    /// # Errors
    /// The browser could not load it.
    pub async fn open(&self, url: &str) -> Result<()> {
        self.client()
            .goto(url)
            .await
            .with_context(|| format!("opening {url}"))
    }

    /// Wait (up to [`PATIENCE`]) for an element matching `css`.
    ///
    /// # Errors
    /// None appeared in time.
    pub async fn wait_for(&self, css: &str) -> Result<fantoccini::elements::Element> {
        let found = self
            .client()
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(e) => Ok(e),
            Err(e) => Err(e).context(format!("waiting for `{css}` on {}", self.url().await)),
        }
    }

    /// The current address, for messages.
    pub async fn url(&self) -> String {
        self.client()
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_else(|e| format!("(no URL: {e})"))
    }

    /// Choose `file` in the upload form's input and press its button.
    ///
    /// # Errors
    /// The form's hooks are missing.
    pub async fn upload(&self, file: &Path) -> Result<()> {
        let path = file.canonicalize().context("the file to upload")?;
        let input = self
            .client()
            .find(Locator::Id("file"))
            .await
            .context("the file input #file")?;
        input
            .send_keys(&path.to_string_lossy())
            .await
            .context("choosing the file")?;
        self.client()
            .find(Locator::Id("verify-submit"))
            .await
            .context("the button #verify-submit")?
            .click()
            .await
            .context("pressing #verify-submit")
    }

    /// Evaluate a script expression (a function body returning a JSON value).
    ///
    /// # Errors
    /// The script failed.
    pub async fn eval(&self, body: &str) -> Result<Value> {
        self.client()
            .execute(body, Vec::new())
            .await
            .with_context(|| format!("running script `{body}`"))
    }

    /// Whether the page runs scripts, from the document's own scripting flag: with scripting
    /// on, markup set into a `<noscript>` stays text; with it off, it becomes elements.
    ///
    /// # Errors
    /// The probe could not run.
    pub async fn scripting(&self) -> Result<bool> {
        let children = self
            .eval(
                "const n = document.createElement('noscript');
                 n.innerHTML = '<b>probe</b>';
                 return n.children.length;",
            )
            .await?;
        match children.as_u64() {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => bail!("the scripting probe answered {children}"),
        }
    }

    /// The visible text of the page.
    ///
    /// # Errors
    /// There is no body.
    pub async fn text(&self) -> Result<String> {
        self.client()
            .find(Locator::Css("body"))
            .await?
            .text()
            .await
            .context("the page's text")
    }

    /// Inject axe-core (`source`) and run it on the whole page with [`AXE_TAGS`]: every
    /// violation found.
    ///
    /// # Errors
    /// The script could not be injected or axe failed.
    pub async fn axe(&self, source: &str) -> Result<Vec<Violation>> {
        let c = self.client();
        let loaded = c
            .execute(
                &format!("{source}\n;return typeof window.axe === 'object';"),
                Vec::new(),
            )
            .await
            .context("injecting axe-core")?;
        ensure!(
            loaded == Value::Bool(true),
            "axe-core did not load: {loaded}"
        );
        let result = c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: { type: 'tag', values: arguments[0] } })
                   .then(r => done({ violations: r.violations.map(v => ({
                       id: v.id, impact: v.impact || '', help: v.help,
                       targets: v.nodes.map(n => n.target.join(' ')) })) }))
                   .catch(e => done({ error: String(e) }));",
                vec![json!(AXE_TAGS)],
            )
            .await
            .context("running axe-core")?;
        if let Some(e) = result.get("error") {
            bail!("axe-core failed: {e}");
        }
        let list = result
            .get("violations")
            .and_then(Value::as_array)
            .with_context(|| format!("axe-core answered {result}"))?;
        let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        Ok(list
            .iter()
            .map(|v| Violation {
                id: s(v, "id"),
                impact: s(v, "impact"),
                help: s(v, "help"),
                targets: v
                    .get("targets")
                    .and_then(Value::as_array)
                    .map(|t| {
                        t.iter()
                            .filter_map(Value::as_str)
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect())
    }

    /// Run axe-core and fail on any serious or critical violation, printing every violation
    /// found (minor and moderate ones too) with its targets.
    ///
    /// # Errors
    /// A serious or critical violation, or axe could not run.
    pub async fn assert_accessible(&self, source: &str, state: &str) -> Result<()> {
        let found = self.axe(source).await?;
        for v in &found {
            eprintln!("axe on {state}: {v}");
        }
        let blocking: Vec<String> = found
            .iter()
            .filter(|v| v.blocking())
            .map(ToString::to_string)
            .collect();
        ensure!(
            blocking.is_empty(),
            "{state} ({}): serious or critical accessibility violations:\n  {}",
            self.url().await,
            blocking.join("\n  ")
        );
        Ok(())
    }

    /// Save a screenshot of the window as `target/test-artifacts/web/<name>.png`.
    ///
    /// # Errors
    /// The browser gave no screenshot or it could not be written.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let png = self
            .client()
            .screenshot()
            .await
            .context("taking a screenshot")?;
        let dir = artifacts();
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let file = dir.join(format!("{name}.png"));
        std::fs::write(&file, png).with_context(|| format!("writing {}", file.display()))?;
        eprintln!("screenshot: {}", file.display());
        Ok(file)
    }

    /// End the session (the browser quits) and the driver.
    pub async fn close(mut self) {
        if let Some(c) = self.client.take() {
            let _ = c.close().await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The driver and everything in its process group (the browser it started).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
