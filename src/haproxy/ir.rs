//! Typed IR of an haproxy.cfg: what the engines run.
//!
//! Every proxy is already resolved against its defaults section (HAProxy semantics: the latest
//! preceding `defaults`, or the named one via `from`), and every `server` line already has its
//! backend's `default-server` applied. Engines never see configuration text: addresses are parsed,
//! times are [`Duration`]s, regexes are compiled, `-f` pattern files and errorfiles are read.
//!
//! Stability contract: the engine branches build against this module, so changes are additive
//! (new fields, new enum variants). Keywords that parse but are not interpreted yet are kept in
//! `Raw` variants / `raw` lists so `rhaproxy -c --dump` still shows them.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use crate::diag::Span;

/// The whole configuration (all `-f` files, in load order).
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub global: Global,
    /// `defaults` sections as written (named or anonymous), kept for `--dump` and `from`.
    pub defaults: Vec<Proxy>,
    /// frontends, backends and listens, in file order, resolved against their defaults.
    pub proxies: Vec<Proxy>,
    pub userlists: Vec<Userlist>,
    pub peers: Vec<PeersSection>,
    pub resolvers: Vec<Resolvers>,
    pub mailers: Vec<Mailers>,
    pub http_errors: Vec<HttpErrors>,
    pub caches: Vec<Cache>,
    pub programs: Vec<Program>,
    pub rings: Vec<Ring>,
}

impl Config {
    /// The frontend/backend/listen named `name` (not defaults).
    pub fn proxy(&self, name: &str) -> Option<&Proxy> {
        self.proxies.iter().find(|p| p.name == name)
    }
    /// Proxies able to receive traffic (frontend/listen with at least one bind).
    pub fn listeners(&self) -> impl Iterator<Item = &Proxy> {
        self.proxies
            .iter()
            .filter(|p| p.kind.has_frontend() && !p.binds.is_empty() && !p.disabled)
    }
    /// Proxies usable as a backend (backend/listen).
    pub fn backends(&self) -> impl Iterator<Item = &Proxy> {
        self.proxies.iter().filter(|p| p.kind.has_backend())
    }
}

/// A directive kept as words because it is not interpreted (yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDirective {
    pub keyword: String,
    pub args: Vec<String>,
    pub span: Span,
}

// ---------------------------------------------------------------------------------------------
// global
// ---------------------------------------------------------------------------------------------

/// The `global` section (several `global` sections merge, as in HAProxy).
#[derive(Debug, Clone, Default)]
pub struct Global {
    pub daemon: bool,
    pub master_worker: bool,
    pub no_exit_on_failure: bool,
    pub nbthread: Option<u32>,
    pub maxconn: Option<u32>,
    pub maxsslconn: Option<u32>,
    pub maxconnrate: Option<u32>,
    pub pidfile: Option<String>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub chroot: Option<String>,
    pub node: Option<String>,
    pub description: Option<String>,
    pub logs: Vec<LogTarget>,
    pub log_send_hostname: Option<String>,
    pub log_tag: Option<String>,
    pub stats_sockets: Vec<StatsSocket>,
    pub stats_timeout: Option<Duration>,
    pub stats_maxconn: Option<u32>,
    pub ca_base: Option<String>,
    pub crt_base: Option<String>,
    pub ssl_default_bind_ciphers: Option<String>,
    pub ssl_default_bind_ciphersuites: Option<String>,
    pub ssl_default_bind_options: Vec<String>,
    pub ssl_default_server_ciphers: Option<String>,
    pub ssl_default_server_ciphersuites: Option<String>,
    pub ssl_default_server_options: Vec<String>,
    pub ssl_dh_param_file: Option<String>,
    pub tune_ssl_default_dh_param: Option<u32>,
    pub hard_stop_after: Option<Duration>,
    pub spread_checks: Option<u32>,
    pub server_state_file: Option<String>,
    pub server_state_base: Option<String>,
    /// `tune.*` settings as (keyword, value words).
    pub tune: Vec<(String, Vec<String>)>,
    pub lua_loads: Vec<String>,
    pub set_vars: Vec<RawDirective>,
    /// Everything else that is accepted but not interpreted.
    pub raw: Vec<RawDirective>,
    pub span: Option<Span>,
}

/// `stats socket ADDR [bind options]` in global.
#[derive(Debug, Clone)]
pub struct StatsSocket {
    pub addr: ListenAddr,
    pub options: BindOptions,
    pub span: Span,
}

// ---------------------------------------------------------------------------------------------
// proxies
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProxyKind {
    #[default]
    Defaults,
    Frontend,
    Backend,
    Listen,
}

impl ProxyKind {
    /// haproxy's `proxy_type_str()`: "frontend", "backend", "proxy" (listen) or "defaults".
    pub fn type_str(self) -> &'static str {
        match self {
            ProxyKind::Listen => "proxy",
            other => other.keyword(),
        }
    }
    pub fn keyword(self) -> &'static str {
        match self {
            ProxyKind::Defaults => "defaults",
            ProxyKind::Frontend => "frontend",
            ProxyKind::Backend => "backend",
            ProxyKind::Listen => "listen",
        }
    }
    /// Accepts connections (frontend, listen; defaults holds frontend settings too).
    pub fn has_frontend(self) -> bool {
        matches!(self, ProxyKind::Frontend | ProxyKind::Listen)
    }
    /// Holds servers (backend, listen).
    pub fn has_backend(self) -> bool {
        matches!(self, ProxyKind::Backend | ProxyKind::Listen)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProxyMode {
    #[default]
    Tcp,
    Http,
    Health,
}

/// A frontend, backend, listen or defaults section.
#[derive(Debug, Clone, Default)]
pub struct Proxy {
    pub kind: ProxyKind,
    pub name: String,
    /// The defaults section this proxy inherited from (its name, "" for an anonymous one).
    pub defaults_from: Option<String>,
    pub span: Span,
    pub mode: ProxyMode,
    pub disabled: bool,
    pub id: Option<i64>,
    pub description: Option<String>,
    pub binds: Vec<Bind>,
    pub servers: Vec<Server>,
    /// The `default-server` template (after inheritance); already applied to `servers`.
    pub default_server: Server,
    pub server_templates: Vec<ServerTemplate>,
    pub balance: Option<BalanceAlgo>,
    pub hash_type: Option<HashType>,
    pub hash_balance_factor: Option<u32>,
    pub cookie: Option<CookieSettings>,
    pub options: ProxyOptions,
    pub timeouts: Timeouts,
    pub retries: Option<u32>,
    pub maxconn: Option<u32>,
    pub backlog: Option<u32>,
    pub fullconn: Option<u32>,
    pub rate_limit_sessions: Option<u32>,
    pub logs: Vec<LogTarget>,
    pub log_format: Option<LogFormat>,
    /// Where `log-format` was set (haproxy checks it after parsing).
    pub log_format_span: Option<Span>,
    pub log_format_sd: Option<LogFormat>,
    pub error_log_format: Option<LogFormat>,
    pub log_tag: Option<String>,
    pub unique_id_format: Option<LogFormat>,
    pub unique_id_header: Option<String>,
    pub monitor_uri: Option<String>,
    pub monitor_fail: Vec<Condition>,
    pub stats: StatsSettings,
    pub acls: Vec<Acl>,
    pub use_backends: Vec<UseBackend>,
    pub default_backend: Option<BackendRef>,
    pub use_servers: Vec<UseServer>,
    pub http_request: Vec<HttpRule>,
    pub http_response: Vec<HttpRule>,
    pub http_after_response: Vec<HttpRule>,
    pub tcp_request_connection: Vec<TcpRule>,
    pub tcp_request_session: Vec<TcpRule>,
    pub tcp_request_content: Vec<TcpRule>,
    pub tcp_request_inspect_delay: Option<Duration>,
    pub tcp_response_content: Vec<TcpRule>,
    pub tcp_response_inspect_delay: Option<Duration>,
    pub redirects: Vec<RedirectRule>,
    pub http_checks: Vec<HttpCheckRule>,
    pub tcp_checks: Vec<TcpCheckRule>,
    pub errorfiles: Vec<ErrorFile>,
    pub errorloc: Vec<ErrorLoc>,
    /// `http-error` lines with their own payload; a status is either here or in `errorfiles`
    /// (the later directive replaces the earlier one).
    pub error_replies: Vec<ErrorReply>,
    pub http_errors_refs: Vec<String>,
    /// Where each `errorfiles` reference was written (same order as `http_errors_refs`).
    pub http_errors_spans: Vec<Span>,
    pub stick_table: Option<StickTable>,
    pub stick_rules: Vec<StickRule>,
    pub captures: Vec<Capture>,
    /// Request capture slots in declaration order (`capture request header`, `declare capture
    /// request`, `http-request capture ... len`): each slot's max length; the index is what
    /// `capture.req.hdr(N)` and `capture ... id N` name.
    pub req_capture_lens: Vec<u32>,
    pub email_alert: Vec<RawDirective>,
    pub filters: Vec<RawDirective>,
    pub compression: Vec<RawDirective>,
    pub http_reuse: Option<String>,
    pub source: Option<String>,
    pub external_check_path: Option<String>,
    pub external_check_command: Option<String>,
    /// Accepted, not interpreted yet (shown by --dump, warned by -c).
    pub raw: Vec<RawDirective>,
}

impl Proxy {
    /// `retries` with haproxy's default (3).
    pub fn effective_retries(&self) -> u32 {
        self.retries.unwrap_or(3)
    }
    /// `balance` with haproxy's default (roundrobin).
    pub fn effective_balance(&self) -> BalanceAlgo {
        self.balance.clone().unwrap_or(BalanceAlgo::RoundRobin)
    }
    /// All ACL declarations named `name` (haproxy ORs the patterns of same-named ACLs).
    pub fn acls_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Acl> + 'a {
        self.acls.iter().filter(move |a| a.name == name)
    }
    /// The server named `name`.
    pub fn server(&self, name: &str) -> Option<&Server> {
        self.servers.iter().find(|s| s.name == name)
    }
}

// ---------------------------------------------------------------------------------------------
// addresses
// ---------------------------------------------------------------------------------------------

/// An inclusive port range (`80`, `8000-8010`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PortRange {
    pub low: u16,
    pub high: u16,
}

/// An address a `bind` (or `stats socket`, peers bind) listens on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    /// `[ipv4@|ipv6@]IP:PORT[-PORT]`; `*:80`, `:80` give the unspecified address.
    /// `v6only` is true for the `ipv6@` prefix.
    Inet {
        ip: IpAddr,
        ports: PortRange,
        v6only: bool,
    },
    /// `unix@PATH` or `/path`.
    Unix { path: String },
    /// `abns@NAME` (abstract namespace socket).
    Abns { name: String },
    /// `fd@N` (inherited socket).
    Fd { fd: i32 },
    /// `sockpair@N`.
    SockPair { fd: i32 },
}

/// Port part of a server address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServerPort {
    /// No port: reuse the client's destination port.
    #[default]
    None,
    Fixed(u16),
    /// `+N` / `-N`: offset from the client's destination port.
    Offset(i32),
}

/// Where a server (or log target, peer, nameserver, mailer) is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ServerAddr {
    /// No address (server-template with `init-addr none`, or `0.0.0.0`-less forms).
    #[default]
    None,
    /// Host as written (`10.0.0.1`, `::1`, `db.local`), its address when it is numeric or known
    /// from /etc/hosts, and the port.
    Inet {
        host: String,
        resolved: Option<IpAddr>,
        port: ServerPort,
    },
    Unix {
        path: String,
    },
    Abns {
        name: String,
    },
    SockPair {
        fd: i32,
    },
}

// ---------------------------------------------------------------------------------------------
// bind
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct Bind {
    /// One bind line may list several comma-separated addresses.
    pub addrs: Vec<ListenAddr>,
    /// The address text as written (haproxy quotes it in messages).
    pub addr_text: String,
    pub options: BindOptions,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyMode {
    None,
    Optional,
    Required,
}

#[derive(Debug, Clone, Default)]
pub struct BindOptions {
    pub name: Option<String>,
    pub id: Option<i64>,
    pub ssl: bool,
    /// `crt` files or directories (resolved against `crt-base`).
    pub crt: Vec<String>,
    pub crt_list: Vec<String>,
    pub ca_file: Option<String>,
    pub crl_file: Option<String>,
    pub verify: Option<VerifyMode>,
    pub alpn: Vec<String>,
    pub npn: Vec<String>,
    pub ciphers: Option<String>,
    pub ciphersuites: Option<String>,
    pub ssl_min_ver: Option<String>,
    pub ssl_max_ver: Option<String>,
    pub strict_sni: bool,
    pub accept_proxy: bool,
    pub accept_netscaler_cip: Option<u32>,
    pub transparent: bool,
    pub v4v6: bool,
    pub v6only: bool,
    pub defer_accept: bool,
    pub tfo: bool,
    pub interface: Option<String>,
    pub namespace: Option<String>,
    pub maxconn: Option<u32>,
    pub backlog: Option<u32>,
    pub mss: Option<String>,
    pub nice: Option<i32>,
    pub proto: Option<String>,
    pub process: Option<String>,
    pub thread: Option<String>,
    pub tcp_ut: Option<Duration>,
    pub level: Option<String>,
    pub mode: Option<u32>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub expose_fd_listeners: bool,
    pub allow_0rtt: bool,
    /// Options accepted but not interpreted yet.
    pub raw: Vec<(String, Vec<String>)>,
}

// ---------------------------------------------------------------------------------------------
// servers
// ---------------------------------------------------------------------------------------------

/// One `server` line, with the backend's `default-server` applied.
#[derive(Debug, Clone)]
pub struct Server {
    pub name: String,
    pub addr: ServerAddr,
    /// The address text as written.
    pub addr_text: String,
    pub span: Span,
    pub id: Option<i64>,
    pub check: bool,
    pub check_ssl: bool,
    pub check_send_proxy: bool,
    pub check_sni: Option<String>,
    pub check_alpn: Vec<String>,
    pub check_proto: Option<String>,
    pub check_via_socks4: bool,
    pub inter: Duration,
    pub fastinter: Option<Duration>,
    pub downinter: Option<Duration>,
    pub rise: u32,
    pub fall: u32,
    pub weight: u32,
    pub backup: bool,
    pub disabled: bool,
    pub maxconn: Option<u32>,
    pub minconn: Option<u32>,
    pub maxqueue: Option<u32>,
    pub cookie: Option<String>,
    pub check_port: Option<u16>,
    pub check_addr: Option<String>,
    pub agent_check: bool,
    pub agent_port: Option<u16>,
    pub agent_addr: Option<String>,
    pub agent_inter: Option<Duration>,
    pub agent_send: Option<String>,
    pub ssl: bool,
    pub verify: Option<VerifyMode>,
    pub verifyhost: Option<String>,
    pub ca_file: Option<String>,
    pub crt: Option<String>,
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    pub ciphers: Option<String>,
    pub ssl_min_ver: Option<String>,
    pub ssl_max_ver: Option<String>,
    pub no_sslv3: bool,
    pub no_tlsv10: bool,
    pub no_tlsv11: bool,
    pub send_proxy: bool,
    pub send_proxy_v2: bool,
    pub send_proxy_v2_ssl: bool,
    pub send_proxy_v2_ssl_cn: bool,
    pub init_addr: Vec<InitAddr>,
    pub resolvers: Option<String>,
    pub resolve_prefer: Option<String>,
    pub resolve_net: Vec<String>,
    pub slowstart: Option<Duration>,
    pub on_error: Option<String>,
    pub on_marked_down: Option<String>,
    pub on_marked_up: Option<String>,
    pub error_limit: Option<u32>,
    pub observe: Option<String>,
    pub redir: Option<String>,
    pub track: Option<String>,
    pub source: Option<String>,
    pub proto: Option<String>,
    pub pool_max_conn: Option<i64>,
    pub pool_purge_delay: Option<Duration>,
    pub tfo: bool,
    pub namespace: Option<String>,
    /// Options accepted but not interpreted yet.
    pub raw: Vec<(String, Vec<String>)>,
}

impl Default for Server {
    /// HAProxy's server defaults: inter 2s, rise 2, fall 3, weight 1.
    fn default() -> Self {
        Server {
            name: String::new(),
            addr: ServerAddr::None,
            addr_text: String::new(),
            span: Span::default(),
            id: None,
            check: false,
            check_ssl: false,
            check_send_proxy: false,
            check_sni: None,
            check_alpn: Vec::new(),
            check_proto: None,
            check_via_socks4: false,
            inter: Duration::from_secs(2),
            fastinter: None,
            downinter: None,
            rise: 2,
            fall: 3,
            weight: 1,
            backup: false,
            disabled: false,
            maxconn: None,
            minconn: None,
            maxqueue: None,
            cookie: None,
            check_port: None,
            check_addr: None,
            agent_check: false,
            agent_port: None,
            agent_addr: None,
            agent_inter: None,
            agent_send: None,
            ssl: false,
            verify: None,
            verifyhost: None,
            ca_file: None,
            crt: None,
            sni: None,
            alpn: Vec::new(),
            ciphers: None,
            ssl_min_ver: None,
            ssl_max_ver: None,
            no_sslv3: false,
            no_tlsv10: false,
            no_tlsv11: false,
            send_proxy: false,
            send_proxy_v2: false,
            send_proxy_v2_ssl: false,
            send_proxy_v2_ssl_cn: false,
            init_addr: Vec::new(),
            resolvers: None,
            resolve_prefer: None,
            resolve_net: Vec::new(),
            slowstart: None,
            on_error: None,
            on_marked_down: None,
            on_marked_up: None,
            error_limit: None,
            observe: None,
            redir: None,
            track: None,
            source: None,
            proto: None,
            pool_max_conn: None,
            pool_purge_delay: None,
            tfo: false,
            namespace: None,
            raw: Vec::new(),
        }
    }
}

/// `init-addr` methods, tried in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitAddr {
    Last,
    Libc,
    None,
    Ip(IpAddr),
}

/// `server-template PREFIX NUM|LOW-HIGH ADDR [options]` (servers are also expanded into
/// [`Proxy::servers`] as PREFIX1..PREFIXn).
#[derive(Debug, Clone)]
pub struct ServerTemplate {
    pub prefix: String,
    pub low: u32,
    pub high: u32,
    pub addr_text: String,
    pub span: Span,
}

// ---------------------------------------------------------------------------------------------
// balancing
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BalanceAlgo {
    RoundRobin,
    StaticRr,
    LeastConn,
    First,
    Source,
    Uri {
        len: Option<u32>,
        depth: Option<u32>,
        whole: bool,
        path_only: bool,
    },
    UrlParam {
        param: String,
        check_post: Option<u32>,
    },
    Hdr {
        name: String,
        use_domain_only: bool,
    },
    Random {
        draws: u32,
    },
    RdpCookie {
        name: Option<String>,
    },
    /// `balance hash <expr>`
    Hash {
        expr: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashMethod {
    MapBased,
    Consistent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashFunction {
    Sdbm,
    Djb2,
    Wt6,
    Crc32,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashType {
    pub method: HashMethod,
    pub function: HashFunction,
    pub avalanche: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieMode {
    Rewrite,
    Insert,
    Prefix,
    /// No mode keyword given (passive: the server sets it).
    Passive,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieSettings {
    pub name: String,
    pub mode: CookieMode,
    pub indirect: bool,
    pub nocache: bool,
    pub postonly: bool,
    pub preserve: bool,
    pub httponly: bool,
    pub secure: bool,
    pub dynamic: bool,
    pub domains: Vec<String>,
    pub maxidle: Option<Duration>,
    pub maxlife: Option<Duration>,
    pub attrs: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// options and timeouts
// ---------------------------------------------------------------------------------------------

/// HTTP connection handling chosen by `option http-keep-alive|http-server-close|httpclose`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpConnMode {
    #[default]
    KeepAlive,
    ServerClose,
    Close,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardFor {
    pub except: Option<ipnet::IpNet>,
    pub header: String,
    pub if_none: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpChk {
    pub method: String,
    pub uri: String,
    pub version: Option<String>,
}

/// The health-check protocol selected by an `option *chk` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckKind {
    HttpChk(HttpChk),
    PgsqlChk {
        user: Option<String>,
    },
    MysqlChk {
        user: Option<String>,
        post41: bool,
    },
    RedisChk,
    SslHelloChk,
    SmtpChk {
        hello: Option<String>,
        domain: Option<String>,
    },
    LdapChk,
    SpopChk,
    TcpCheck,
    ExternalCheck,
}

/// `option` settings, resolved (a `no option x` in the proxy beats the defaults).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProxyOptions {
    pub httplog: bool,
    pub httplog_clf: bool,
    /// Where `option httplog` was set (haproxy warns there when the proxy is not HTTP).
    pub httplog_span: Option<Span>,
    pub tcplog: bool,
    pub dontlognull: bool,
    pub dontlog_normal: bool,
    pub log_separate_errors: bool,
    pub log_health_checks: bool,
    pub forwardfor: Option<ForwardFor>,
    pub originalto: Option<ForwardFor>,
    pub http_mode: HttpConnMode,
    pub redispatch: bool,
    pub redispatch_interval: Option<i32>,
    pub allbackups: bool,
    pub abortonclose: bool,
    pub check: Option<CheckKind>,
    pub http_use_htx: bool,
    pub http_buffer_request: bool,
    pub http_ignore_probes: bool,
    pub http_pretend_keepalive: bool,
    pub http_no_delay: bool,
    pub httpslog: bool,
    pub persist: bool,
    pub prefer_last_server: bool,
    pub splice_auto: bool,
    pub splice_request: bool,
    pub splice_response: bool,
    pub tcpka: bool,
    pub clitcpka: bool,
    pub srvtcpka: bool,
    pub socket_stats: bool,
    pub transparent: bool,
    pub accept_invalid_http_request: bool,
    pub accept_invalid_http_response: bool,
    pub h1_case_adjust_bogus_client: bool,
    pub h1_case_adjust_bogus_server: bool,
    pub independent_streams: bool,
    pub nolinger: bool,
    pub contstats: bool,
    pub disable_h2_upgrade: bool,
    pub idle_close_on_response: bool,
    /// `option http-restrict-req-hdr-names` (None: preserve).
    pub restrict_req_hdr_names: Option<RestrictHdrNames>,
    /// Every `[no] option X` seen, by name, after inheritance (true = enabled).
    pub all: BTreeMap<String, bool>,
}

/// `option http-restrict-req-hdr-names { preserve | delete | reject }`: what to do with request
/// header names holding characters outside `[A-Za-z0-9-]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestrictHdrNames {
    Preserve,
    Delete,
    Reject,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timeouts {
    pub connect: Option<Duration>,
    pub client: Option<Duration>,
    pub server: Option<Duration>,
    pub http_request: Option<Duration>,
    pub http_keep_alive: Option<Duration>,
    pub queue: Option<Duration>,
    pub check: Option<Duration>,
    pub tunnel: Option<Duration>,
    pub client_fin: Option<Duration>,
    pub server_fin: Option<Duration>,
    pub tarpit: Option<Duration>,
}

// ---------------------------------------------------------------------------------------------
// logging, stats
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogDest {
    /// `log global`: use the global section's targets.
    Global,
    Stdout,
    Stderr,
    Udp {
        host: String,
        resolved: Option<IpAddr>,
        port: u16,
    },
    Tcp {
        host: String,
        resolved: Option<IpAddr>,
        port: u16,
    },
    Unix {
        path: String,
    },
    Ring {
        name: String,
    },
    Fd {
        fd: i32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTarget {
    pub dest: LogDest,
    pub max_len: Option<u32>,
    pub format: Option<String>,
    pub sample: Option<String>,
    pub facility: Option<String>,
    pub level: Option<String>,
    pub min_level: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct StatsSettings {
    pub enabled: bool,
    pub uri: Option<String>,
    pub realm: Option<String>,
    pub auth: Vec<(String, String)>,
    pub refresh: Option<Duration>,
    pub admin: Vec<Condition>,
    pub hide_version: bool,
    pub show_legends: bool,
    pub show_node: Option<String>,
    pub show_desc: Option<String>,
    pub scope: Vec<String>,
    pub http_request: Vec<HttpRule>,
    pub raw: Vec<RawDirective>,
}

/// A log-format string (`%[expr]`, `%ci`, literals), kept with its source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFormat {
    pub text: String,
    pub nodes: Vec<LogFormatNode>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFormatNode {
    Literal(String),
    /// `%ci`, `%{+Q}r` ...: a log variable with its `{...}` flags.
    Var {
        name: String,
        flags: Vec<String>,
    },
    /// `%[fetch,conv]`
    Sample {
        expr: SampleExpr,
        flags: Vec<String>,
    },
}

// ---------------------------------------------------------------------------------------------
// ACLs, samples and conditions
// ---------------------------------------------------------------------------------------------

/// `fetch(args),conv(args),...`
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SampleExpr {
    pub fetch: String,
    pub args: Vec<String>,
    pub converters: Vec<Converter>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converter {
    pub name: String,
    pub args: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchMethod {
    Found,
    Bool,
    Int,
    Ip,
    Bin,
    Len,
    Str,
    Sub,
    Reg,
    Beg,
    End,
    Dir,
    Dom,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AclFlags {
    /// `-i`
    pub ignore_case: bool,
    /// `-m METHOD` (or implied by the fetch suffix, e.g. `hdr_beg`).
    pub match_method: Option<MatchMethod>,
    /// `-n`
    pub no_dns: bool,
    /// `-f FILE` (files read at load).
    pub files: Vec<String>,
    /// `-M` (map files)
    pub map_files: bool,
    /// `-u ID`
    pub unique_id: Option<String>,
}

/// A compiled regex that compares by its source text.
#[derive(Debug, Clone)]
pub struct Regex(pub regex::Regex);

impl PartialEq for Regex {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}
impl Eq for Regex {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// A literal pattern (string, integer/range, IP/network ... interpreted by the match method).
    Value(String),
    /// A compiled regex (`-m reg`, `_reg` fetches).
    Regex(Regex),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    pub name: String,
    pub expr: SampleExpr,
    pub flags: AclFlags,
    pub patterns: Vec<Pattern>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polarity {
    If,
    Unless,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AclRef {
    /// A named ACL (declared in the proxy, or predefined like `TRUE`, `HTTP`, `LOCALHOST`).
    Named(String),
    /// `{ fetch -flags patterns }`
    Anonymous(Box<Acl>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CondTerm {
    pub negated: bool,
    pub acl: AclRef,
}

/// `if|unless` followed by an OR (`||`, `or`) of ANDs of terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub polarity: Polarity,
    pub terms: Vec<Vec<CondTerm>>,
    pub span: Span,
}

// ---------------------------------------------------------------------------------------------
// switching rules
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendRef {
    Static(String),
    /// A name built from a log-format string at run time (`%[req.hdr(host)]`).
    Dynamic(LogFormat),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseBackend {
    pub target: BackendRef,
    pub cond: Option<Condition>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseServer {
    pub server: String,
    pub cond: Option<Condition>,
    pub span: Span,
}

// ---------------------------------------------------------------------------------------------
// http / tcp rules
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectKind {
    Location,
    Prefix,
    Scheme,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub kind: RedirectKind,
    pub target: LogFormat,
    pub code: u16,
    pub drop_query: bool,
    pub append_slash: bool,
    pub set_cookie: Option<String>,
    pub clear_cookie: Option<String>,
    /// `ignore-empty`: the rule does nothing when the target renders empty.
    pub ignore_empty: bool,
}

/// `redirect ...` proxy keyword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectRule {
    pub redirect: Redirect,
    pub cond: Option<Condition>,
    pub span: Span,
}

/// An http-request / http-response / http-after-response action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpAction {
    Allow,
    /// `deny`: `status` None = 403 (http-request) / 502 (http-response); `body` None = the
    /// proxy's error page for the status (`default-errorfiles` implied).
    Deny {
        status: Option<u16>,
        content_type: Option<String>,
        body: Option<ReturnBody>,
        headers: Vec<(String, LogFormat)>,
    },
    /// `tarpit`: same reply arguments as `deny`, 500 by default.
    Tarpit {
        status: Option<u16>,
        content_type: Option<String>,
        body: Option<ReturnBody>,
        headers: Vec<(String, LogFormat)>,
    },
    Auth {
        realm: Option<String>,
    },
    Redirect(Redirect),
    SetHeader {
        name: String,
        value: LogFormat,
    },
    AddHeader {
        name: String,
        value: LogFormat,
    },
    DelHeader {
        name: String,
        method: Option<String>,
    },
    ReplaceHeader {
        name: String,
        regex: Regex,
        replace: String,
    },
    ReplaceValue {
        name: String,
        regex: Regex,
        replace: String,
    },
    SetPath(LogFormat),
    SetPathq(LogFormat),
    SetQuery(LogFormat),
    SetUri(LogFormat),
    SetMethod(LogFormat),
    ReplacePath {
        regex: Regex,
        replace: String,
    },
    ReplacePathq {
        regex: Regex,
        replace: String,
    },
    ReplaceUri {
        regex: Regex,
        replace: String,
    },
    SetVar {
        name: String,
        expr: SampleExpr,
    },
    SetVarFmt {
        name: String,
        format: LogFormat,
    },
    UnsetVar {
        name: String,
    },
    SetStatus {
        code: u16,
        reason: Option<String>,
    },
    Return {
        status: u16,
        content_type: Option<String>,
        body: Option<ReturnBody>,
        headers: Vec<(String, LogFormat)>,
    },
    SetLogLevel(String),
    SetNice(i32),
    SetTos(String),
    SetMark(String),
    SetDst(SampleExpr),
    SetDstPort(SampleExpr),
    SetSrc(SampleExpr),
    SetSrcPort(SampleExpr),
    TrackSc {
        index: u8,
        key: SampleExpr,
        table: Option<String>,
    },
    ScIncGpc {
        index: u8,
        counter: u8,
    },
    CaptureSample {
        expr: SampleExpr,
        len: Option<u32>,
        id: Option<u32>,
    },
    DoResolve {
        var: String,
        resolvers: String,
        expr: SampleExpr,
    },
    UseService(String),
    Lua {
        name: String,
        args: Vec<String>,
    },
    SilentDrop,
    Reject,
    EarlyHint {
        name: String,
        value: LogFormat,
    },
    NormalizeUri(Vec<String>),
    WaitForBody(Vec<String>),
    CacheUse(String),
    CacheStore(String),
    /// Parsed but not interpreted yet: the action keyword and its words.
    Raw {
        action: String,
        args: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnBody {
    File(String),
    LfFile(String),
    String(String),
    LfString(LogFormat),
    Errorfile(String),
    /// `errorfiles NAME`: the page of that http-errors section for the reply's status, resolved
    /// at parse time (None: the section has no page for it, an empty reply is sent).
    Errorfiles {
        section: String,
        page: Option<Vec<u8>>,
    },
    /// `default-errorfiles`: the proxy's error page for the status (errorfile, http-error or
    /// HAProxy's built-in page).
    DefaultErrorfiles,
}

/// `http-error status N ...` with a payload of its own (string, lf-string, file, lf-file or
/// none). The errorfile forms of `http-error` are kept as [`ErrorFile`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReply {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Option<ReturnBody>,
    pub headers: Vec<(String, LogFormat)>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRule {
    pub action: HttpAction,
    pub cond: Option<Condition>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpAction {
    Accept,
    Reject,
    SilentDrop,
    ExpectProxy,
    ExpectNetscalerCip,
    Capture {
        expr: SampleExpr,
        len: u32,
    },
    TrackSc {
        index: u8,
        key: SampleExpr,
        table: Option<String>,
    },
    SetVar {
        name: String,
        expr: SampleExpr,
    },
    UnsetVar {
        name: String,
    },
    SetDst(SampleExpr),
    SetSrc(SampleExpr),
    UseService(String),
    Lua {
        name: String,
        args: Vec<String>,
    },
    Close,
    Raw {
        action: String,
        args: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpRule {
    pub action: TcpAction,
    pub cond: Option<Condition>,
    pub span: Span,
}

// ---------------------------------------------------------------------------------------------
// health checks
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpCheckRule {
    Send {
        method: Option<String>,
        uri: Option<String>,
        version: Option<String>,
        headers: Vec<(String, String)>,
        body: Option<String>,
    },
    Expect {
        negate: bool,
        kind: String,
        pattern: String,
        options: Vec<String>,
    },
    Connect {
        options: Vec<String>,
    },
    DisableOn404,
    SendState,
    Comment(String),
    SetVar {
        name: String,
        expr: SampleExpr,
    },
    Raw {
        action: String,
        args: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpCheckRule {
    Connect {
        options: Vec<String>,
    },
    Send {
        data: String,
        hex: bool,
        log_format: bool,
    },
    Expect {
        negate: bool,
        kind: String,
        pattern: String,
        options: Vec<String>,
    },
    Comment(String),
    Raw {
        action: String,
        args: Vec<String>,
    },
}

// ---------------------------------------------------------------------------------------------
// errors, stick tables, captures
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorFile {
    pub status: u16,
    pub path: String,
    /// The file's content, read at load.
    pub content: Vec<u8>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorLoc {
    pub status: u16,
    pub url: String,
    /// 302 (`errorloc`, `errorloc302`) or 303 (`errorloc303`).
    pub code: u16,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StickKeyType {
    Ip,
    Ipv6,
    Integer,
    String { len: u32 },
    Binary { len: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StickTable {
    pub key: StickKeyType,
    pub size: u64,
    pub expire: Option<Duration>,
    pub nopurge: bool,
    /// `srvkey addr`: entries name their server by address (default: by name).
    pub srvkey_addr: bool,
    pub peers: Option<String>,
    /// `store` data types, e.g. `conn_cur`, `http_req_rate(10s)`.
    pub store: Vec<String>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StickRuleKind {
    On,
    Match,
    StoreRequest,
    StoreResponse,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StickRule {
    pub kind: StickRuleKind,
    pub expr: SampleExpr,
    pub table: Option<String>,
    pub cond: Option<Condition>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capture {
    RequestHeader { name: String, len: u32 },
    ResponseHeader { name: String, len: u32 },
    Cookie { name: String, len: u32 },
}

// ---------------------------------------------------------------------------------------------
// other sections
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Password {
    /// `password HASH` (crypt(3) form)
    Secure(String),
    /// `insecure-password TEXT`
    Insecure(String),
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub password: Password,
    pub groups: Vec<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub users: Vec<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Userlist {
    pub name: String,
    pub groups: Vec<Group>,
    pub users: Vec<User>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Peer {
    pub name: String,
    pub addr: Option<ServerAddr>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct PeersSection {
    pub name: String,
    pub peers: Vec<Peer>,
    pub binds: Vec<Bind>,
    pub servers: Vec<Peer>,
    pub table: Vec<RawDirective>,
    /// `table NAME ...` lines: stick tables known to proxies as `SECTION/NAME`.
    pub tables: Vec<(String, StickTable)>,
    pub disabled: bool,
    pub raw: Vec<RawDirective>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Nameserver {
    pub name: String,
    pub addr: ServerAddr,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Resolvers {
    pub name: String,
    pub nameservers: Vec<Nameserver>,
    pub parse_resolv_conf: bool,
    pub accepted_payload_size: Option<u32>,
    pub resolve_retries: Option<u32>,
    pub timeout_resolve: Option<Duration>,
    pub timeout_retry: Option<Duration>,
    pub hold: Vec<(String, Duration)>,
    pub raw: Vec<RawDirective>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Mailers {
    pub name: String,
    pub mailers: Vec<Nameserver>,
    pub timeout_mail: Option<Duration>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct HttpErrors {
    pub name: String,
    pub errorfiles: Vec<ErrorFile>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Cache {
    pub name: String,
    pub total_max_size_mb: Option<u64>,
    pub max_object_size: Option<u64>,
    pub max_age: Option<u64>,
    pub process_vary: Option<bool>,
    pub max_secondary_entries: Option<u32>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Program {
    pub name: String,
    pub command: Vec<String>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub start_on_reload: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Ring {
    pub name: String,
    pub size: Option<u64>,
    pub format: Option<String>,
    pub maxlen: Option<u32>,
    pub servers: Vec<Server>,
    pub raw: Vec<RawDirective>,
    pub span: Span,
}
