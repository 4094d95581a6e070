//! The outbound-HTTP policy every dcx client follows: https to the world,
//! plain http only to this machine (test servers, loopback mirrors), and a
//! redirect never leaves that rule.

use url::Url;

/// Whether `url` names this machine (`localhost`, 127.0.0.0/8, `[::1]`):
/// plain http is harmless there.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether a request to `url` stays confidential: https, or loopback. A
/// token or a download is only ever sent or taken where this holds.
pub fn is_confidential(url: &Url) -> bool {
    url.scheme() == "https" || (url.scheme() == "http" && is_loopback(url))
}

/// The most redirects followed for one request.
pub const MAX_REDIRECTS: usize = 10;

/// The redirect policy of every dcx client: at most [`MAX_REDIRECTS`],
/// and only to a URL that [`is_confidential`] (release assets redirect to
/// a CDN; a redirect must never go from https down to plain http on a
/// remote host). reqwest itself drops `Authorization` when a redirect
/// changes host.
pub fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
        } else if is_confidential(attempt.url()) {
            attempt.follow()
        } else {
            let refused = format!("refusing to follow a redirect to {}", attempt.url());
            attempt.error(refused)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_is_confidential() {
        let yes = |u: &str| is_confidential(&Url::parse(u).unwrap());
        assert!(yes("https://api.github.com/x"));
        assert!(yes("http://127.0.0.1:8080/x"));
        assert!(yes("http://127.5.0.1/x"));
        assert!(yes("http://[::1]:9/x"));
        assert!(yes("http://LOCALHOST/x"));
        assert!(!yes("http://api.github.com/x"));
        assert!(!yes("http://localhost.evil.example/x"));
        assert!(!yes("http://[::2]/x"));
        assert!(!yes("ftp://127.0.0.1/x"));
    }
}
