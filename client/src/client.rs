//! The client handle and the plumbing every call shares: URLs, credentials,
//! status checks and body decoding.

use std::fmt;
use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, Url};
use serde::de::DeserializeOwned;

use crate::error::{snippet, Error, Result};

/// Environment variable naming the server's base URL.
pub const ENV_URL: &str = "PERFORMCHAT_URL";
/// Environment variable holding the API key id (`pk_…`).
pub const ENV_KEY_ID: &str = "PERFORMCHAT_KEY_ID";
/// Environment variable holding the API key secret (`sk_…`).
pub const ENV_KEY_SECRET: &str = "PERFORMCHAT_KEY_SECRET";

/// A handle to one server with one API key. Cheap to clone: clones share the
/// connection pool.
///
/// ```no_run
/// # async fn run() -> performchat_client::Result<()> {
/// let client = performchat_client::Client::new("https://chat.example.com", "pk_…", "sk_…")?;
/// let health = client.health().await?;
/// assert_eq!(health.status, "ok");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// The server's root, always ending in `/`.
    root: Url,
    key_id: String,
    key_secret: String,
    /// The caller's `Idempotency-Key` for this handle's writes
    /// ([`Client::with_idempotency_key`]); `None`: a fresh one per request.
    idempotency_key: Option<String>,
}

impl fmt::Debug for Client {
    // The secret must never reach a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("root", &self.root.as_str())
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the server at `base_url` (its root, e.g.
    /// `http://127.0.0.1:8080`; a trailing `/rest/v1` is accepted too).
    pub fn new(
        base_url: &str,
        key_id: impl Into<String>,
        key_secret: impl Into<String>,
    ) -> Result<Self> {
        // No overall timeout: exports stream for as long as they need.
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("performchat-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        Self::with_http_client(http, base_url, key_id, key_secret)
    }

    /// Like [`Client::new`], with your own `reqwest::Client` (proxies,
    /// timeouts, extra root certificates).
    pub fn with_http_client(
        http: reqwest::Client,
        base_url: &str,
        key_id: impl Into<String>,
        key_secret: impl Into<String>,
    ) -> Result<Self> {
        Ok(Client {
            http,
            root: root_url(base_url)?,
            key_id: key_id.into(),
            key_secret: key_secret.into(),
            idempotency_key: None,
        })
    }

    /// A client from `PERFORMCHAT_URL`, `PERFORMCHAT_KEY_ID` and
    /// `PERFORMCHAT_KEY_SECRET`.
    pub fn from_env() -> Result<Self> {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| Error::Config(format!("{name} is not set")))
        };
        Self::new(&var(ENV_URL)?, var(ENV_KEY_ID)?, var(ENV_KEY_SECRET)?)
    }

    /// The server root this client talks to.
    pub fn base_url(&self) -> &Url {
        &self.root
    }

    /// The API key id this client sends.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// `/rest/v1/<segments…>`, each segment percent-encoded, so an id with a
    /// `/` or `?` in it cannot change the route.
    fn api_url(&self, segments: &[&str]) -> Url {
        let mut url = self.root.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(["rest", "v1"]).extend(segments);
        }
        url
    }

    /// This client with your own `Idempotency-Key` on its writes, so that a
    /// call you repeat (after a timeout, a lost connection, a 5xx) runs on
    /// the server at most once: the repeat gets the first attempt's answer
    /// (docs/API.md §12.3). Use the returned handle for one logical call and
    /// its retries; a call that sends several requests (a bulk call over
    /// [`BULK_MAX`](crate::BULK_MAX) users) sends `KEY`, `KEY.2`, `KEY.3`….
    /// Keys are 1–255 characters from `!` to `~`.
    ///
    /// Without it every write carries a fresh random key (this client does
    /// not retry by itself).
    ///
    /// ```no_run
    /// # async fn run(client: performchat_client::Client) -> performchat_client::Result<()> {
    /// use performchat_client::{Error, UserUpdate};
    /// let once = client.with_idempotency_key("signup-4711");
    /// let update = UserUpdate::new().name("Ada");
    /// let user = match once.upsert_user("4711", &update).await {
    ///     // The answer was lost on the way: ask again, it is not run twice.
    ///     Err(Error::Transport(_)) => once.upsert_user("4711", &update).await?,
    ///     other => other?,
    /// };
    /// # Ok(()) }
    /// ```
    pub fn with_idempotency_key(&self, key: impl Into<String>) -> Client {
        Client {
            idempotency_key: Some(key.into()),
            ..self.clone()
        }
    }

    /// The handle for the `n`-th request (from 1) of a call that sends
    /// several: a caller's key gets `.n` from the second on.
    pub(crate) fn part(&self, n: usize) -> Client {
        match &self.idempotency_key {
            Some(key) if n > 1 => self.with_idempotency_key(format!("{key}.{n}")),
            _ => self.clone(),
        }
    }

    /// An authenticated request to an API path. Credentials travel as HTTP
    /// Basic auth, which the server reads on every method. Writes carry an
    /// `Idempotency-Key`: the caller's, or a fresh random one.
    pub(crate) fn api(&self, method: Method, segments: &[&str]) -> RequestBuilder {
        let writes = matches!(
            method,
            Method::POST | Method::PUT | Method::PATCH | Method::DELETE
        );
        let request = self
            .http
            .request(method, self.api_url(segments))
            .basic_auth(&self.key_id, Some(&self.key_secret));
        if !writes {
            return request;
        }
        let key = self
            .idempotency_key
            .clone()
            .unwrap_or_else(|| ulid::Ulid::new().to_string());
        request.header("Idempotency-Key", key)
    }

    /// A request outside `/rest/v1` with no credentials (`/health`).
    pub(crate) fn plain(&self, path: &str) -> Result<RequestBuilder> {
        let url = self
            .root
            .join(path)
            .map_err(|e| Error::Config(format!("bad path {path}: {e}")))?;
        Ok(self.http.get(url))
    }
}

/// Sends, and turns any non-success status into the matching [`Error`].
pub(crate) async fn send(request: RequestBuilder) -> Result<Response> {
    let response = request.send().await?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap_or_default();
    Err(Error::from_response(status, &headers, &body))
}

/// Reads a success answer's JSON body into `T`.
pub(crate) async fn decode<T: DeserializeOwned>(response: Response) -> Result<T> {
    let status = response.status().as_u16();
    let bytes = response.bytes().await?;
    serde_json::from_slice(&bytes).map_err(|e| Error::UnexpectedResponse {
        status,
        detail: format!(
            "{e}; body: {}",
            snippet(String::from_utf8_lossy(&bytes).trim())
        ),
    })
}

/// `send` then `decode`.
pub(crate) async fn call<T: DeserializeOwned>(request: RequestBuilder) -> Result<T> {
    decode(send(request).await?).await
}

fn root_url(base_url: &str) -> Result<Url> {
    let mut url = Url::parse(base_url.trim())
        .map_err(|e| Error::Config(format!("invalid base URL {base_url:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::Config(format!(
            "base URL {base_url:?} must start with http:// or https://"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!(
            "base URL {base_url:?} must not have a query or fragment"
        )));
    }
    let path = url.path().trim_end_matches('/');
    let path = path.strip_suffix("/rest/v1").unwrap_or(path);
    let path = format!("{path}/");
    url.set_path(&path);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> Client {
        Client::new(base, "pk_x", "sk_y").unwrap()
    }

    #[test]
    fn urls_are_built_under_rest_v1() {
        for base in [
            "http://h:1",
            "http://h:1/",
            "http://h:1/rest/v1",
            "http://h:1/rest/v1/",
        ] {
            assert_eq!(
                client(base).api_url(&["customer-users", "cu_1"]).as_str(),
                "http://h:1/rest/v1/customer-users/cu_1",
                "{base}"
            );
        }
        assert_eq!(
            client("https://h/pc").api_url(&["agents"]).as_str(),
            "https://h/pc/rest/v1/agents"
        );
    }

    #[test]
    fn ids_cannot_escape_their_segment() {
        let url = client("http://h").api_url(&["customer-users", "a/b?c"]);
        assert_eq!(url.as_str(), "http://h/rest/v1/customer-users/a%2Fb%3Fc");
    }

    #[test]
    fn bad_base_urls_are_refused() {
        for bad in ["", "h:1", "ftp://h", "http://h/?x=1"] {
            assert!(
                matches!(Client::new(bad, "a", "b"), Err(Error::Config(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn debug_hides_the_secret() {
        assert!(!format!("{:?}", client("http://h")).contains("sk_y"));
    }
}
