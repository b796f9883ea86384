//! Sending mail: a rendered [`Mail`] (plain text and HTML from the templates under
//! `templates/mail/`) goes out through SMTP, or, without an SMTP server configured, is
//! written as an `.eml` file under `<data dir>/mail/`.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use retail_domain::notify::Content;
use secrecy::ExposeSecret;

use crate::config::{NotificationSettings, SmtpSecurity};

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The message could not be built (a bad address, say): retrying will not help.
    #[error("cannot build the message: {0}")]
    Build(String),
    /// The server or the disk failed: retry later.
    #[error("cannot send: {0}")]
    Send(String),
}

/// A mail ready to send.
#[derive(Debug, Clone)]
pub struct Mail {
    /// Recipient address.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Message-ID (with its angle brackets).
    pub message_id: String,
    /// Plain-text part.
    pub text: String,
    /// HTML part.
    pub html: String,
}

const TEXT_TEMPLATE: &str = include_str!("../templates/mail/notification.txt");
const HTML_TEMPLATE: &str = include_str!("../templates/mail/notification.html");

/// Renders a notification's content into a mail for `to`.
pub fn render(
    content: &Content,
    essential: bool,
    to: &str,
    message_id: &str,
    shop: &str,
    public_url: &str,
) -> Result<Mail, MailError> {
    let mut env = minijinja::Environment::new();
    let bad = |e: minijinja::Error| MailError::Build(e.to_string());
    env.add_template("notification.txt", TEXT_TEMPLATE).map_err(bad)?;
    env.add_template("notification.html", HTML_TEMPLATE).map_err(bad)?;
    let base = public_url.trim_end_matches('/');
    let ctx = minijinja::context! {
        shop => shop,
        subject => &content.subject,
        title => &content.title,
        body => &content.body,
        url => format!("{base}{}", content.link),
        settings_url => format!("{base}/notifications"),
        essential => essential,
    };
    let text = env.get_template("notification.txt").and_then(|t| t.render(&ctx)).map_err(bad)?;
    let html = env.get_template("notification.html").and_then(|t| t.render(&ctx)).map_err(bad)?;
    Ok(Mail {
        to: to.to_owned(),
        subject: format!("{}: {}", shop, content.subject),
        message_id: message_id.to_owned(),
        text,
        html,
    })
}

/// Where mail goes.
pub enum Mailer {
    /// An SMTP server.
    Smtp {
        /// The transport (connections per send; timeouts from the settings).
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// The sender.
        from: Mailbox,
    },
    /// `.eml` files in this directory (the default without SMTP settings).
    Files {
        /// The directory.
        dir: PathBuf,
        /// The sender.
        from: Mailbox,
    },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mailer::Smtp { from, .. } => write!(f, "Mailer::Smtp(from {from})"),
            Mailer::Files { dir, .. } => write!(f, "Mailer::Files({})", dir.display()),
        }
    }
}

impl Mailer {
    /// The mailer the settings describe; files under `data_dir/mail` without an SMTP host.
    pub fn from_settings(s: &NotificationSettings, data_dir: &std::path::Path) -> Result<Mailer, String> {
        let from: Mailbox =
            s.from.parse().map_err(|e| format!("notifications.from {:?} is not an address: {e}", s.from))?;
        let Some(host) = s.smtp_host.as_deref().filter(|h| !h.trim().is_empty()) else {
            return Ok(Mailer::Files { dir: data_dir.join("mail"), from });
        };
        let builder = match s.smtp_security {
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| format!("notifications.smtp_host: {e}"))?,
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| format!("notifications.smtp_host: {e}"))?,
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        };
        let mut builder =
            builder.port(s.smtp_port).timeout(Some(Duration::from_millis(s.smtp_timeout_ms.max(1))));
        if let (Some(user), Some(pass)) = (&s.smtp_username, &s.smtp_password) {
            builder = builder.credentials(Credentials::new(user.clone(), pass.expose_secret().to_owned()));
        }
        Ok(Mailer::Smtp { transport: builder.build(), from })
    }

    /// Sends `mail` (or writes its file).
    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let from = match self {
            Mailer::Smtp { from, .. } | Mailer::Files { from, .. } => from.clone(),
        };
        let to: Mailbox =
            mail.to.parse().map_err(|e| MailError::Build(format!("recipient {:?}: {e}", mail.to)))?;
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(mail.message_id.clone()))
            .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
            .map_err(|e| MailError::Build(e.to_string()))?;
        match self {
            Mailer::Smtp { transport, .. } => {
                transport.send(message).await.map_err(|e| MailError::Send(e.to_string()))?;
                Ok(())
            }
            Mailer::Files { dir, .. } => {
                let dir = dir.clone();
                let name: String = mail
                    .message_id
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
                    .collect();
                let bytes = message.formatted();
                tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                    std::fs::create_dir_all(&dir)?;
                    let tmp = dir.join(format!(".{name}.part"));
                    std::fs::write(&tmp, &bytes)?;
                    std::fs::rename(&tmp, dir.join(format!("{name}.eml")))
                })
                .await
                .map_err(|e| MailError::Send(e.to_string()))?
                .map_err(|e| MailError::Send(e.to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content() -> Content {
        Content {
            subject: "Order #3 shipped".into(),
            title: "Order #3 is on its way <soon>".into(),
            body: vec!["Carrier: DHL & co".into()],
            link: "/orders/3".into(),
        }
    }

    #[test]
    fn both_parts_carry_the_content_and_html_is_escaped() {
        let m =
            render(&content(), false, "a@b.test", "<x@retail>", "Shop", "http://127.0.0.1:8080/").unwrap();
        assert_eq!(m.subject, "Shop: Order #3 shipped");
        assert!(m.text.contains("Order #3 is on its way <soon>"), "{}", m.text);
        assert!(m.text.contains("http://127.0.0.1:8080/orders/3"));
        assert!(m.text.contains("turn these mails off"));
        assert!(m.html.contains("on its way &lt;soon&gt;"), "{}", m.html);
        assert!(m.html.contains("DHL &amp; co"));
        // minijinja escapes `/` as `&#x2f;` in HTML; a browser reads the same URL.
        assert!(
            m.html.replace("&#x2f;", "/").contains("href=\"http://127.0.0.1:8080/orders/3\""),
            "{}",
            m.html
        );
        let essential = render(&content(), true, "a@b.test", "<x@retail>", "Shop", "http://h").unwrap();
        assert!(!essential.text.contains("turn these mails off"), "money mail cannot be turned off");
    }

    #[tokio::test]
    async fn without_smtp_mail_is_written_as_an_eml_file() {
        let dir = tempfile::tempdir().unwrap();
        let s = NotificationSettings::default();
        let mailer = Mailer::from_settings(&s, dir.path()).unwrap();
        let m =
            render(&content(), false, "c@retail.test", "<n1.abc@retail.notifications>", "Shop", "http://h")
                .unwrap();
        mailer.send(&m).await.unwrap();
        let files: Vec<_> =
            std::fs::read_dir(dir.path().join("mail")).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(files.len(), 1);
        let eml = std::fs::read_to_string(&files[0]).unwrap();
        assert!(eml.contains("Message-ID: <n1.abc@retail.notifications>"), "{eml}");
        assert!(eml.contains("To: c@retail.test"));
        assert!(eml.contains("multipart/alternative"));
        let bad = Mail { to: "not an address".into(), ..m };
        assert!(matches!(mailer.send(&bad).await, Err(MailError::Build(_))));
    }
}
