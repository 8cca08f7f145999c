//! The clients the scenarios drive: REST over HTTP/1.1 (keep-alive) or HTTP/2 (prior
//! knowledge, h2c: the gateway serves both on one port), gRPC-web framed by hand over
//! HTTP/1.1, and gRPC through tonic-generated clients (to the gateway or a service).

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::{HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use prost::Message;
use tonic::{
    metadata::{Ascii, MetadataValue},
    transport::{Channel, Endpoint},
};

use std::sync::Arc;

use crate::load::{RequestError, Rng};

/// The HTTP version a [`Rest`] client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpVersion {
    /// HTTP/1.1 with keep-alive: one connection per concurrent request.
    Http1,
    /// HTTP/2 over cleartext with prior knowledge: one multiplexed connection.
    Http2,
}

/// An HTTP client bound to one base URL (`http://127.0.0.1:port`).
#[derive(Clone)]
pub struct Rest {
    base_url: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// A bearer token as a ready header value.
pub fn bearer(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("Bearer {token}")).expect("a token is ASCII")
}

impl Rest {
    pub fn new(base_url: impl Into<String>, version: HttpVersion) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let mut builder = Client::builder(TokioExecutor::new());
        builder.pool_max_idle_per_host(usize::MAX);
        if version == HttpVersion::Http2 {
            builder.http2_only(true);
        }
        Self {
            base_url: base_url.into(),
            client: builder.build(connector),
        }
    }

    /// Builds a request to `path` (with its query).
    pub fn request(
        &self,
        method: Method,
        path: &str,
        authorization: Option<&HeaderValue>,
        body: Option<(&'static str, Bytes)>,
    ) -> Request<Full<Bytes>> {
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("{}{}", self.base_url, path));
        if let Some(value) = authorization {
            builder = builder.header(header::AUTHORIZATION, value.clone());
        }
        let body = match body {
            Some((content_type, bytes)) => {
                builder = builder.header(header::CONTENT_TYPE, content_type);
                bytes
            }
            None => Bytes::new(),
        };
        builder.body(Full::new(body)).expect("a valid request")
    }

    /// Sends a request and reads the whole answer: status, headers, body and trailers.
    pub async fn exchange(&self, request: Request<Full<Bytes>>) -> Result<Answer, RequestError> {
        let response = self
            .client
            .request(request)
            .await
            .map_err(RequestError::transport)?;
        let (parts, body) = response.into_parts();
        let collected = body.collect().await.map_err(RequestError::transport)?;
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body: collected.to_bytes(),
        })
    }

    /// Sends a request and fails unless the status is `expected`; returns the body.
    pub async fn expect(
        &self,
        request: Request<Full<Bytes>>,
        expected: StatusCode,
    ) -> Result<Bytes, RequestError> {
        let answer = self.exchange(request).await?;
        if answer.status != expected {
            return Err(RequestError::http(answer.status.as_u16(), &answer.body));
        }
        Ok(answer.body)
    }

    /// `GET path` with a bearer token, expecting 200.
    pub async fn get(
        &self,
        path: &str,
        authorization: &HeaderValue,
    ) -> Result<Bytes, RequestError> {
        self.expect(
            self.request(Method::GET, path, Some(authorization), None),
            StatusCode::OK,
        )
        .await
    }

    /// `POST path` with a JSON body, expecting `expected`; returns the parsed answer.
    pub async fn post_json(
        &self,
        path: &str,
        authorization: Option<&HeaderValue>,
        body: &serde_json::Value,
        expected: StatusCode,
    ) -> Result<serde_json::Value, RequestError> {
        let bytes = Bytes::from(serde_json::to_vec(body).expect("JSON serialises"));
        let answer = self
            .expect(
                self.request(
                    Method::POST,
                    path,
                    authorization,
                    Some(("application/json", bytes)),
                ),
                expected,
            )
            .await?;
        serde_json::from_slice(&answer).map_err(|error| RequestError::unexpected(error.to_string()))
    }

    /// Signs in over REST; returns the access token.
    pub async fn login(&self, username: &str, password: &str) -> Result<String, RequestError> {
        let answer = self
            .post_json(
                "/auth/login",
                None,
                &serde_json::json!({"username": username, "password": password}),
                StatusCode::OK,
            )
            .await?;
        answer["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| RequestError::unexpected("no access_token in the login answer"))
    }

    /// One unary gRPC-web call (`application/grpc-web+proto`) of `method`
    /// (`/package.Service/Method`), framed by hand.
    pub async fn grpc_web<Req: Message, Resp: Message + Default>(
        &self,
        method: &str,
        authorization: &HeaderValue,
        message: &Req,
    ) -> Result<Resp, RequestError> {
        let mut request = self.request(
            Method::POST,
            method,
            Some(authorization),
            Some(("application/grpc-web+proto", grpc_web_frame(message))),
        );
        request
            .headers_mut()
            .insert("x-grpc-web", HeaderValue::from_static("1"));
        let answer = self.exchange(request).await?;
        if answer.status != StatusCode::OK {
            return Err(RequestError::http(answer.status.as_u16(), &answer.body));
        }
        // A trailers-only answer carries its status in the headers.
        if let Some(status) = answer.headers.get("grpc-status") {
            let code = status.to_str().unwrap_or("2").parse().unwrap_or(2);
            if code != 0 {
                let message = answer
                    .headers
                    .get("grpc-message")
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default();
                return Err(RequestError::grpc(tonic::Code::from_i32(code), message));
            }
        }
        let (messages, trailers) = split_grpc_web_body(answer.body);
        let code = trailers
            .lines()
            .find_map(|line| line.trim().strip_prefix("grpc-status:"))
            .and_then(|value| value.trim().parse::<i32>().ok());
        match code {
            Some(0) => {}
            Some(code) => return Err(RequestError::grpc(tonic::Code::from_i32(code), &trailers)),
            None => {
                return Err(RequestError::unexpected(
                    "gRPC-web answer without grpc-status",
                ));
            }
        }
        let first = messages
            .into_iter()
            .next()
            .ok_or_else(|| RequestError::unexpected("gRPC-web answer without a message"))?;
        Resp::decode(first).map_err(|error| RequestError::unexpected(error.to_string()))
    }
}

/// A whole HTTP answer.
pub struct Answer {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

/// One gRPC-web data frame: flag 0, big-endian length, the encoded message.
pub fn grpc_web_frame(message: &impl Message) -> Bytes {
    let payload = message.encode_to_vec();
    let mut frame = BytesMut::with_capacity(5 + payload.len());
    frame.put_u8(0);
    frame.put_u32(payload.len() as u32);
    frame.put_slice(&payload);
    frame.freeze()
}

/// Splits a gRPC-web body into its data frames and its trailer block (as text).
pub fn split_grpc_web_body(mut body: Bytes) -> (Vec<Bytes>, String) {
    let mut messages = Vec::new();
    let mut trailers = String::new();
    while body.remaining() >= 5 {
        let flag = body.get_u8();
        let length = body.get_u32() as usize;
        if length > body.remaining() {
            break;
        }
        let frame = body.split_to(length);
        if flag & 0x80 != 0 {
            trailers.push_str(&String::from_utf8_lossy(&frame));
        } else {
            messages.push(frame);
        }
    }
    (messages, trailers)
}

/// A lazily connected gRPC channel (HTTP/2, `TCP_NODELAY`) to `http://127.0.0.1:port`.
pub fn grpc_channel(url: &str) -> anyhow::Result<Channel> {
    Ok(Endpoint::from_shared(url.to_owned())?
        .tcp_nodelay(true)
        .connect_lazy())
}

/// Several gRPC channels to one address, each its own HTTP/2 connection, as many tills
/// would open; a request picks one at random.
#[derive(Clone)]
pub struct Channels(Arc<Vec<Channel>>);

impl Channels {
    pub fn new(url: &str, connections: usize) -> anyhow::Result<Self> {
        let channels = (0..connections.max(1))
            .map(|_| grpc_channel(url))
            .collect::<anyhow::Result<_>>()?;
        Ok(Self(Arc::new(channels)))
    }

    pub fn first(&self) -> Channel {
        self.0[0].clone()
    }

    pub fn pick(&self, rng: &mut Rng) -> Channel {
        rng.pick(&self.0).clone()
    }
}

/// `authorization` metadata for a gRPC call.
pub fn grpc_bearer(token: &str) -> MetadataValue<Ascii> {
    format!("Bearer {token}").parse().expect("a token is ASCII")
}

/// Wraps a message with the caller's token.
pub fn authorized<T>(message: T, token: &MetadataValue<Ascii>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", token.clone());
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grpc_web_frame_splits_back() {
        let message = regal_proto::catalog::v1::GetProductRequest { id: "x".to_owned() };
        let mut body = BytesMut::from(&grpc_web_frame(&message)[..]);
        let trailer = b"grpc-status:0\r\n";
        body.put_u8(0x80);
        body.put_u32(trailer.len() as u32);
        body.put_slice(trailer);
        let (messages, trailers) = split_grpc_web_body(body.freeze());
        assert_eq!(messages.len(), 1);
        assert_eq!(
            regal_proto::catalog::v1::GetProductRequest::decode(messages[0].clone()).unwrap(),
            message
        );
        assert!(trailers.contains("grpc-status:0"));
    }
}
