//! The client's address, as the budgets count it: the one place that decides whom a request
//! comes from.
//!
//! API Gateway reports the address of the connection that reached it
//! (`requestContext.http.sourceIp`). Behind the CloudFront distribution that is an edge
//! server, shared by everyone it serves; CloudFront reports the viewer's own address in
//! `CloudFront-Viewer-Address` (`ip:port`, an IPv6 address unbracketed:
//! `2001:db8::1:46532`). That header is believed only on a request that proves it came through
//! the distribution: it carries the secret custom origin header CloudFront adds to every
//! request it sends to the API (CloudFront overwrites a viewer's header of that name), compared
//! in constant time. Anything else a client writes (`X-Forwarded-For`, a viewer address of its
//! own) changes nothing. Without a configured secret (local development) only the connection's
//! address counts.
//!
//! An IPv6 client is counted per /64: one host commonly holds a whole /64, so its single
//! addresses would each be a fresh budget.

use std::net::{IpAddr, Ipv6Addr};

use super::Request;
use crate::config::Config;

/// The custom origin header CloudFront adds to the API's requests, holding the origin secret
/// (template.yaml: the distribution's `OriginCustomHeaders`).
pub const ORIGIN_VERIFY_HEADER: &str = "x-origin-verify";
/// CloudFront's header with the viewer's address and port (forwarded by the origin request
/// policy of the API's behaviours).
pub const VIEWER_ADDRESS_HEADER: &str = "cloudfront-viewer-address";

/// The client a request is budgeted as: an IPv4 address, an IPv6 /64 (`2001:db8:1:2::/64`),
/// or `unknown` for a request without any address (not from API Gateway).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress(String);

impl ClientAddress {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The budget key of one address (an IPv6 address: its /64; an IPv4-mapped one: the IPv4
    /// address).
    fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self(v4.to_string()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self(v4.to_string()),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    Self(format!("{}/64", Ipv6Addr::from(prefix)))
                }
            },
        }
    }

    /// A `sourceIp` as API Gateway reports it; kept as it is if it is not an address.
    fn of_source(source: &str) -> Self {
        match source.parse::<IpAddr>() {
            Ok(ip) => Self::of(ip),
            Err(_) => Self(source.to_string()),
        }
    }
}

impl std::fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The budget key of requests that carry no address at all (not from API Gateway): they
/// share one budget.
const UNKNOWN: &str = "unknown";

/// Whom `req` comes from (see the module documentation).
pub fn client_address(config: &Config, req: &Request) -> ClientAddress {
    if through_distribution(config, req)
        && let Some(viewer) = viewer_address(req)
    {
        return ClientAddress::of(viewer);
    }
    match source_ip(req) {
        Some(source) => ClientAddress::of_source(source),
        None => ClientAddress(UNKNOWN.into()),
    }
}

/// Whether the request carries the origin secret (exactly one value, equal in constant time).
fn through_distribution(config: &Config, req: &Request) -> bool {
    let Some(secret) = &config.origin_verify_secret else {
        return false;
    };
    let mut values = req.headers().get_all(ORIGIN_VERIFY_HEADER).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => {
            aws_lc_rs::constant_time::verify_slices_are_equal(value.as_bytes(), secret.expose())
                .is_ok()
        }
        _ => false,
    }
}

/// The viewer's address from `CloudFront-Viewer-Address` (one value, `ip:port`; an IPv6
/// address unbracketed, or bracketed as in a URL).
fn viewer_address(req: &Request) -> Option<IpAddr> {
    let mut values = req.headers().get_all(VIEWER_ADDRESS_HEADER).iter();
    let value = match (values.next(), values.next()) {
        (Some(value), None) => value.to_str().ok()?.trim(),
        _ => return None,
    };
    let (ip, port) = value.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    let ip = ip
        .strip_prefix('[')
        .and_then(|ip| ip.strip_suffix(']'))
        .unwrap_or(ip);
    ip.parse().ok()
}

/// The address of the connection that reached API Gateway (`requestContext.http.sourceIp`).
/// Never read from `X-Forwarded-For`, which the client writes itself.
fn source_ip(req: &Request) -> Option<&str> {
    match lambda_http::RequestExt::request_context_ref(req) {
        Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) => {
            ctx.http.source_ip.as_deref().filter(|ip| !ip.is_empty())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_config;

    const SECRET: &str = "origin-verify-secret-0123456789abcdef";

    fn request(source_ip: &str, headers: &[(&str, &str)]) -> Request {
        let headers: serde_json::Map<String, serde_json::Value> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
            .collect();
        let event = serde_json::json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": "/v1/auth/login",
            "rawQueryString": "",
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "api",
                "domainName": "api.example.com",
                "domainPrefix": "api",
                "http": {
                    "method": "POST",
                    "path": "/v1/auth/login",
                    "protocol": "HTTP/1.1",
                    "sourceIp": source_ip,
                    "userAgent": "tests"
                },
                "requestId": "id",
                "routeKey": "$default",
                "stage": "$default",
                "time": "23/Nov/2026:08:00:00 +0000",
                "timeEpoch": 1_795_420_800_000_i64
            },
            "isBase64Encoded": false
        });
        lambda_http::request::from_str(&event.to_string()).unwrap()
    }

    fn behind_cloudfront() -> Config {
        test_config(&[("ORIGIN_VERIFY_SECRET", SECRET)])
    }

    fn address(config: &Config, req: &Request) -> String {
        client_address(config, req).to_string()
    }

    #[test]
    fn the_viewer_address_counts_only_with_the_origin_secret() {
        let config = behind_cloudfront();
        let edge = "130.176.1.1";
        let through = request(
            edge,
            &[
                (ORIGIN_VERIFY_HEADER, SECRET),
                (VIEWER_ADDRESS_HEADER, "198.51.100.7:46532"),
            ],
        );
        assert_eq!(address(&config, &through), "198.51.100.7");
        // A forged viewer address without the secret, or with a wrong one, changes nothing.
        for headers in [
            vec![(VIEWER_ADDRESS_HEADER, "198.51.100.7:46532")],
            vec![
                (
                    ORIGIN_VERIFY_HEADER,
                    "origin-verify-secret-0123456789abcdeX",
                ),
                (VIEWER_ADDRESS_HEADER, "198.51.100.7:46532"),
            ],
            vec![
                (ORIGIN_VERIFY_HEADER, &SECRET[..10]),
                (VIEWER_ADDRESS_HEADER, "198.51.100.7:46532"),
            ],
            vec![
                ("x-forwarded-for", "198.51.100.7"),
                (VIEWER_ADDRESS_HEADER, "198.51.100.7:46532"),
            ],
        ] {
            assert_eq!(
                address(&config, &request(edge, &headers)),
                edge,
                "{headers:?}"
            );
        }
        // The secret with no (or an unreadable) viewer address: the connection's.
        for viewer in ["", "198.51.100.7", "not-an-address:80", "198.51.100.7:port"] {
            let req = request(
                edge,
                &[
                    (ORIGIN_VERIFY_HEADER, SECRET),
                    (VIEWER_ADDRESS_HEADER, viewer),
                ],
            );
            assert_eq!(address(&config, &req), edge, "{viewer:?}");
        }
    }

    #[test]
    fn without_a_configured_secret_only_the_connection_counts() {
        let config = test_config(&[]);
        let req = request(
            "203.0.113.5",
            &[
                (ORIGIN_VERIFY_HEADER, SECRET),
                (VIEWER_ADDRESS_HEADER, "198.51.100.7:46532"),
            ],
        );
        assert_eq!(address(&config, &req), "203.0.113.5");
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        let config = behind_cloudfront();
        for (viewer, expected) in [
            ("2001:db8:1:2::1:46532", "2001:db8:1:2::/64"),
            ("2001:db8:1:2:ffff:ffff:ffff:ffff:443", "2001:db8:1:2::/64"),
            ("[2001:db8:1:2:aaaa::9]:8080", "2001:db8:1:2::/64"),
            ("2001:db8:1:3::1:46532", "2001:db8:1:3::/64"),
            ("::ffff:198.51.100.7:1234", "198.51.100.7"),
        ] {
            let req = request(
                "130.176.1.1",
                &[
                    (ORIGIN_VERIFY_HEADER, SECRET),
                    (VIEWER_ADDRESS_HEADER, viewer),
                ],
            );
            assert_eq!(address(&config, &req), expected, "{viewer}");
        }
        // The connection's own IPv6 address too.
        let req = request("2001:db8:5:6:7::8", &[]);
        assert_eq!(address(&test_config(&[]), &req), "2001:db8:5:6::/64");
    }
}
