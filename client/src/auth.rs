//! `auth/*`: chat tokens.

use reqwest::Method;
use serde_json::json;

use crate::client::{call, Client};
use crate::error::{Error, Result};
use crate::types::{Invalidated, IssuedToken, TokenRequest, VerifiedToken};

impl Client {
    /// `POST /auth/token`: a chat token for your user `user_id` on an agent.
    /// Creates the customer user on its first token.
    ///
    /// ```no_run
    /// # async fn run(client: performchat_client::Client) -> performchat_client::Result<()> {
    /// use performchat_client::TokenRequest;
    /// let issued = client
    ///     .issue_token(&TokenRequest::new("user_123", "agent_…").expires_in("1h"))
    ///     .await?;
    /// println!("{} (until {})", issued.token, issued.expires_at);
    /// # Ok(()) }
    /// ```
    pub async fn issue_token(&self, request: &TokenRequest) -> Result<IssuedToken> {
        call(self.api(Method::POST, &["auth", "token"]).json(request)).await
    }

    /// `POST /auth/invalidate-token`: every token issued so far for the user
    /// (by internal id, `cu_…`) stops verifying.
    ///
    /// The server answers 400 for an unknown user here (as the public docs
    /// say); this method reports that as [`Error::NotFound`], like every
    /// other lookup.
    pub async fn invalidate_tokens(&self, customer_user_id: &str) -> Result<Invalidated> {
        let request = self
            .api(Method::POST, &["auth", "invalidate-token"])
            .json(&json!({ "customerUserId": customer_user_id }));
        call(request).await.map_err(|e| match e {
            Error::Validation {
                status: 400,
                message,
            } if message.starts_with("Customer user not found") => Error::NotFound { message },
            other => other,
        })
    }

    /// `POST /auth/verify-token`: checks a chat token as a chat front end
    /// would. A token that does not verify gives [`Error::Unauthorized`] with
    /// the reason.
    pub async fn verify_token(&self, token: &str) -> Result<VerifiedToken> {
        call(
            self.api(Method::POST, &["auth", "verify-token"])
                .json(&json!({ "token": token })),
        )
        .await
    }
}
