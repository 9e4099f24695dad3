//! An in-process `performchat` on a real port with a fresh SQLite database,
//! one company with an active agent, and a full-permission API key.
#![allow(dead_code)]

use std::sync::Arc;

use performchat::app::{AppState, Config};
use performchat::auth::create_api_key;
use performchat::domain::{now_ms, Environment, Permissions};
use performchat::store::{ConnectOptions, SqlStore, Store, TenantStore};
use performchat_client::{Client, CustomerUser, TokenRequest};

pub struct Server {
    pub url: String,
    pub store: Arc<SqlStore>,
    pub company: String,
    pub agent: String,
    pub key: (String, String),
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Server {
    pub async fn start() -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = format!("sqlite://{}", dir.path().join("client.db").display());
        let store = Arc::new(
            SqlStore::connect(
                &db,
                &ConnectOptions {
                    pool_size: 4,
                    create: true,
                    ..ConnectOptions::default()
                },
            )
            .await
            .expect("test store"),
        );
        let state = AppState::new(
            Arc::clone(&store) as Arc<dyn Store>,
            None,
            Config::default(),
        )
        .await
        .expect("app state");
        let now = now_ms();
        let company = store.create_company("Acme", now).await.unwrap().id;
        let agent = store
            .create_agent(&company, "Support", Some("Be kind."), true, now)
            .await
            .unwrap()
            .id;
        let (record, secret) = create_api_key(
            store.as_ref(),
            &company,
            "client tests",
            Environment::Development,
            Permissions::all(),
            None,
        )
        .await
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(performchat::http::serve(listener, state, async {
            let _ = rx.await;
        }));
        Server {
            url,
            store,
            company,
            agent,
            key: (record.id, secret),
            stop: Some(tx),
            _dir: dir,
        }
    }

    pub fn client(&self) -> Client {
        Client::new(&self.url, &self.key.0, &self.key.1).unwrap()
    }

    /// A second company's client, to prove tenancy holds through the client.
    pub async fn other_tenant(&self) -> Client {
        let company = self
            .store
            .create_company("Other", now_ms())
            .await
            .unwrap()
            .id;
        let (record, secret) = create_api_key(
            self.store.as_ref(),
            &company,
            "other",
            Environment::Production,
            Permissions::all(),
            None,
        )
        .await
        .unwrap();
        Client::new(&self.url, record.id, secret).unwrap()
    }

    /// A key limited to `permissions` (comma list).
    pub async fn client_with(&self, permissions: &str) -> Client {
        let (record, secret) = create_api_key(
            self.store.as_ref(),
            &self.company,
            "limited",
            Environment::Production,
            Permissions::parse_list(permissions).unwrap(),
            None,
        )
        .await
        .unwrap();
        Client::new(&self.url, record.id, secret).unwrap()
    }

    /// Creates a user the way the docs do: by issuing its first token, with a
    /// key of its own, so that making many users stays under the token rate
    /// limit of the key the test itself uses.
    pub async fn user(&self, external_id: &str) -> CustomerUser {
        let (record, secret) = create_api_key(
            self.store.as_ref(),
            &self.company,
            "test setup",
            Environment::Development,
            Permissions::all(),
            None,
        )
        .await
        .unwrap();
        let client = Client::new(&self.url, record.id, secret).unwrap();
        let issued = client
            .issue_token(&TokenRequest::new(external_id, &self.agent))
            .await
            .unwrap();
        client.get_user(&issued.customer_user.id).await.unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}
