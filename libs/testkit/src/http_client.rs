//! A small HTTP/1.1 client for the gateway's REST and gRPC-web faces.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, header};
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};

#[derive(Clone)]
pub struct HttpClient {
    base_url: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl HttpClient {
    pub fn new(base_url: String) -> Self {
        Self {
            base_url,
            client: {
                let mut connector = HttpConnector::new();
                connector.set_nodelay(true);
                Client::builder(TokioExecutor::new()).build(connector)
            },
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sends a raw HTTP/1.1 request head (no body) and returns the raw response, for
    /// requests a well-behaved client cannot make (a huge declared body, say).
    pub async fn raw_exchange(&self, head: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let address = self.base_url.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(address)
            .await
            .expect("gateway accepts");
        stream
            .write_all(head.as_bytes())
            .await
            .expect("head is sent");
        let mut response = Vec::new();
        let mut buffer = [0u8; 8192];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => {
                    response.extend_from_slice(&buffer[..read]);
                    if let Some(text) = std::str::from_utf8(&response).ok()
                        && response_complete(text)
                    {
                        break;
                    }
                }
            }
        }
        String::from_utf8_lossy(&response).into_owned()
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder<'_> {
        RequestBuilder {
            client: self,
            method,
            path: path.to_owned(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    pub fn get(&self, path: &str) -> RequestBuilder<'_> {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> RequestBuilder<'_> {
        self.request(Method::POST, path)
    }

    pub fn put(&self, path: &str) -> RequestBuilder<'_> {
        self.request(Method::PUT, path)
    }

    pub fn delete(&self, path: &str) -> RequestBuilder<'_> {
        self.request(Method::DELETE, path)
    }
}

pub struct RequestBuilder<'a> {
    client: &'a HttpClient,
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

impl RequestBuilder<'_> {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.insert(
            HeaderName::from_bytes(name.as_bytes()).expect("valid header name"),
            HeaderValue::from_str(value).expect("valid header value"),
        );
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub fn json(mut self, value: &serde_json::Value) -> Self {
        self.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        self.body = Bytes::from(serde_json::to_vec(value).expect("json serialises"));
        self
    }

    pub fn body(mut self, content_type: &str, body: impl Into<Bytes>) -> Self {
        self.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).expect("valid content type"),
        );
        self.body = body.into();
        self
    }

    pub async fn send(self) -> TestResponse {
        let uri = format!("{}{}", self.client.base_url, self.path);
        let mut request = Request::builder()
            .method(self.method)
            .uri(&uri)
            .body(Full::new(self.body))
            .expect("valid request");
        *request.headers_mut() = self.headers;
        let response = self
            .client
            .client
            .request(request)
            .await
            .unwrap_or_else(|error| panic!("request to {uri} failed: {error}"));
        let (parts, body) = response.into_parts();
        let collected = body.collect().await.expect("response body is read");
        let trailers = collected.trailers().cloned();
        TestResponse {
            status: parts.status.as_u16(),
            headers: parts.headers,
            trailers,
            body: collected.to_bytes(),
        }
    }
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub trailers: Option<HeaderMap>,
    pub body: Bytes,
}

impl TestResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("body is not JSON ({error}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// True once a raw response holds its head and the whole `content-length` body.
fn response_complete(text: &str) -> bool {
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())
                .flatten()
        })
        .unwrap_or(0);
    body.len() >= length
}
