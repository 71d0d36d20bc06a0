/* net.c -- the bots' HTTP client, backoff, token buckets and log lines.
 *
 * One net_client wraps one CURL easy handle and reuses it for every request, so
 * libcurl keeps the connection open between calls (keep-alive) and a dead
 * one is noticed by TCP keep-alive and the low-speed limit.  The URL is
 * never copied into an error message (the Telegram token lives in its
 * path); curl's own error text is passed through net_redact() with the
 * handle's secret before it reaches the caller.  See net.h for the API.
 */
#include "net.h"
#include "pushpull.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>

struct net_client {
    CURL *curl;
    CURLM *multi;           /* drives curl so a cancel is seen within NET_TICK_MS */
    net_opts opts;
    const char *secret;
    const volatile int *cancel;
    char errbuf[CURL_ERROR_SIZE];
    /* per-request state */
    char *body;
    size_t len, cap;
    int too_big;
    long retry_after;
};

int net_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : PP_NET_EOTHER;
}

void net_global_cleanup(void)
{
    curl_global_cleanup();
}

static void set_err(char *err, size_t errlen, const char *secret, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    net_redact(err, secret);
}

net_client *net_new(const net_opts *opts, char *err, size_t errlen)
{
    net_client *n = calloc(1, sizeof *n);
    if (!n) {
        set_err(err, errlen, NULL, "out of memory");
        return NULL;
    }
    if (opts) n->opts = *opts;
    if (n->opts.connect_timeout_ms <= 0) n->opts.connect_timeout_ms = 10000;
    if (n->opts.timeout_ms <= 0) n->opts.timeout_ms = 30000;
    if (n->opts.low_speed_bytes <= 0) n->opts.low_speed_bytes = 1;
    if (n->opts.low_speed_secs <= 0) n->opts.low_speed_secs = 30;
    if (n->opts.max_body == 0) n->opts.max_body = PP_NET_MAX_BODY;
    n->curl = curl_easy_init();
    n->multi = n->curl ? curl_multi_init() : NULL;
    if (!n->multi) {
        if (n->curl) curl_easy_cleanup(n->curl);
        free(n);
        set_err(err, errlen, NULL, "could not create an HTTP handle");
        return NULL;
    }
    return n;
}

void net_free(net_client *n)
{
    if (!n) return;
    curl_easy_cleanup(n->curl);       /* not in the multi between requests */
    curl_multi_cleanup(n->multi);     /* and with it the connection cache */
    free(n->body);
    free(n);
}

void net_set_secret(net_client *n, const char *secret) { n->secret = secret; }
void net_set_cancel(net_client *n, const volatile int *cancel) { n->cancel = cancel; }

void net_response_clear(net_response *r)
{
    if (!r) return;
    free(r->body);
    memset(r, 0, sizeof *r);
    r->retry_after = -1;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    net_client *n = ud;
    size_t add = size * nmemb;
    if (n->len + add > n->opts.max_body) {
        n->too_big = 1;
        return 0;               /* makes curl fail with CURLE_WRITE_ERROR */
    }
    if (n->len + add + 1 > n->cap) {
        size_t cap = n->cap ? n->cap : 4096;
        while (cap < n->len + add + 1) cap *= 2;
        char *p = realloc(n->body, cap);
        if (!p) return 0;
        n->body = p;
        n->cap = cap;
    }
    memcpy(n->body + n->len, ptr, add);
    n->len += add;
    n->body[n->len] = '\0';
    return add;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    net_client *n = ud;
    size_t len = size * nmemb;
    static const char name[] = "retry-after:";
    if (len > sizeof name - 1 && strncasecmp(ptr, name, sizeof name - 1) == 0) {
        char val[32];
        size_t vlen = len - (sizeof name - 1);
        if (vlen >= sizeof val) vlen = sizeof val - 1;
        memcpy(val, ptr + sizeof name - 1, vlen);
        val[vlen] = '\0';
        char *end;
        long v = strtol(val, &end, 10);
        if (end != val && v >= 0 && v < 86400) n->retry_after = v;
    }
    return len;
}

/* One transfer of the easy handle through the handle's multi.  Not
 * curl_easy_perform: that polls in slices of a second and checks the
 * progress callback between them, so a stop asked during a long poll
 * waited up to a second.  Here *cancel is read every NET_TICK_MS; the
 * multi keeps the connection cache between requests (keep-alive). */
#define NET_TICK_MS 50
static CURLcode net_perform(net_client *n)
{
    if (curl_multi_add_handle(n->multi, n->curl) != CURLM_OK) return CURLE_FAILED_INIT;
    CURLcode rc = CURLE_GOT_NOTHING;
    for (;;) {
        if (n->cancel && *n->cancel) { rc = CURLE_ABORTED_BY_CALLBACK; break; }
        int running = 0;
        if (curl_multi_perform(n->multi, &running) != CURLM_OK) { rc = CURLE_FAILED_INIT; break; }
        if (!running) {
            int left;
            CURLMsg *m;
            while ((m = curl_multi_info_read(n->multi, &left)) != NULL)
                if (m->msg == CURLMSG_DONE && m->easy_handle == n->curl) rc = m->data.result;
            break;
        }
        /* a signal (EINTR) ends the wait early too */
        if (curl_multi_poll(n->multi, NULL, 0, NET_TICK_MS, NULL) != CURLM_OK) {
            rc = CURLE_FAILED_INIT;
            break;
        }
    }
    curl_multi_remove_handle(n->multi, n->curl);
    return rc;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt; (void)dn; (void)ut; (void)un;
    net_client *n = ud;
    return (n->cancel && *n->cancel) ? 1 : 0;
}

int net_request(net_client *n, const char *method, const char *url,
                   const char *const *headers, const char *body,
                   size_t body_len, long timeout_ms, net_response *out,
                   char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->retry_after = -1;
    CURL *c = n->curl;
    curl_easy_reset(c);         /* keeps the connection cache */
    n->len = 0;
    n->too_big = 0;
    n->retry_after = -1;
    n->errbuf[0] = '\0';
    if (n->body) n->body[0] = '\0';

    long total = timeout_ms > 0 ? timeout_ms : n->opts.timeout_ms;
    long low_secs = n->opts.low_speed_secs;
    if (total / 1000 + 5 > low_secs && timeout_ms > 0) low_secs = total / 1000 + 5;

    struct curl_slist *hl = NULL;
    int have_ct = 0;
    for (size_t i = 0; headers && headers[i]; i++) {
        if (strncasecmp(headers[i], "content-type:", 13) == 0) have_ct = 1;
        struct curl_slist *t = curl_slist_append(hl, headers[i]);
        if (!t) goto oom;
        hl = t;
    }
    if (body && !have_ct) {
        struct curl_slist *t = curl_slist_append(hl, "Content-Type: application/json");
        if (!t) goto oom;
        hl = t;
    }
    {   /* no "Expect: 100-continue" round trip */
        struct curl_slist *t = curl_slist_append(hl, "Expect:");
        if (!t) goto oom;
        hl = t;
    }

    char ua[64];
    snprintf(ua, sizeof ua, "pushpull/%s", PP_VERSION);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_USERAGENT, n->opts.user_agent ? n->opts.user_agent : ua);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_VERBOSE, 0L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, n->errbuf);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, n->opts.connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, total);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, n->opts.low_speed_bytes);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, low_secs);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 10L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, n);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, n);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, n);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        if (body) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        }
    }

    uint64_t t0 = net_now_ms();
    CURLcode rc = net_perform(n);
    out->seconds = (double)(net_now_ms() - t0) / 1000.0;
    curl_slist_free_all(hl);
    /* Forget the URL and body pointers: they belong to the caller. */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);

    if (rc != CURLE_OK) {
        int st;
        const char *what;
        if (n->too_big) { st = PP_NET_ETOOBIG; what = "response too large"; }
        else if (rc == CURLE_ABORTED_BY_CALLBACK) { st = PP_NET_ECANCEL; what = "cancelled"; }
        else if (rc == CURLE_OPERATION_TIMEDOUT) { st = PP_NET_ETIMEOUT; what = "timed out"; }
        else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
                 rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR ||
                 rc == CURLE_SEND_ERROR || rc == CURLE_PARTIAL_FILE) {
            st = PP_NET_ECONN; what = "connection failed";
        } else { st = PP_NET_EOTHER; what = "transport error"; }
        /* curl's buffer may name the host, never the path; redact anyway. */
        set_err(err, errlen, n->secret, "%s (%s%s%s)", what, curl_easy_strerror(rc),
                n->errbuf[0] ? ": " : "", n->errbuf);
        return st;
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    out->status = status;
    out->retry_after = n->retry_after;
    out->body = malloc(n->len + 1);
    if (!out->body) goto oom_nohl;
    if (n->len) memcpy(out->body, n->body, n->len);
    out->body[n->len] = '\0';
    out->len = n->len;
    /* Do not keep a large buffer alive between requests. */
    if (n->cap > 65536) {
        free(n->body);
        n->body = NULL;
        n->cap = 0;
    }
    return 0;
oom:
    curl_slist_free_all(hl);
oom_nohl:
    set_err(err, errlen, NULL, "out of memory");
    return PP_NET_EOTHER;
}

/* ---- base URLs ---------------------------------------------------------- */

/* Is host[0..len) this machine: 127.0.0.0/8 in dotted decimal, ::1 (in any
 * spelling inet_pton reads), or exactly "localhost"? */
static int host_is_loopback(const char *host, size_t len, int ipv6)
{
    char h[64];
    if (len >= sizeof h) return 0;
    memcpy(h, host, len);
    h[len] = '\0';
    if (ipv6) {
        struct in6_addr a6;
        return inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
    }
    if (strcmp(h, "localhost") == 0) return 1;
    struct in_addr a4;     /* inet_pton takes only the four-part dotted form */
    return inet_pton(AF_INET, h, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

int net_base_url_check(const char *url, int allow_insecure_http, char *err, size_t errlen)
{
    int tls = strncmp(url, "https://", 8) == 0;
    if (!tls && strncmp(url, "http://", 7) != 0) {
        set_err(err, errlen, NULL, "must start with http:// or https://");
        return -1;
    }
    const char *host = url + (tls ? 8 : 7), *p = host;
    int ipv6 = *p == '[';
    if (ipv6) {
        p = strchr(host, ']');
        if (!p || strspn(host + 1, "0123456789abcdefABCDEF:.") != (size_t)(p - host - 1)) {
            set_err(err, errlen, NULL, "has a malformed [IPv6] host");
            return -1;
        }
        p++;
    } else {
        p += strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._");
    }
    size_t host_len = (size_t)(p - host);
    if (host_len == 0 || (ipv6 && host_len < 3)) {
        set_err(err, errlen, NULL, "has no host name");
        return -1;
    }
    if (*p == ':') {
        const char *port = ++p;
        long v = 0;
        while (*p >= '0' && *p <= '9' && p - port < 6) v = v * 10 + (*p++ - '0');
        if (p == port || v < 1 || v > 65535 || (*p >= '0' && *p <= '9')) {
            set_err(err, errlen, NULL, "has a port that is not 1..65535");
            return -1;
        }
    }
    if (*p && *p != '/') {
        set_err(err, errlen, NULL, "has a character a host name cannot have (user names, "
                "spaces, non-ASCII: give the host as ASCII letters, digits, '-' and '.')");
        return -1;
    }
    for (; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '?' || *p == '#') {
            set_err(err, errlen, NULL, "has a character a base URL cannot have (space, "
                    "control, non-ASCII, '?' or '#')");
            return -1;
        }
    if (!tls && !allow_insecure_http && !host_is_loopback(host + ipv6, host_len - 2 * ipv6, ipv6)) {
        set_err(err, errlen, NULL, "is http:// to another machine: the token would cross the "
                "network in clear.  Use https://, or give --allow-insecure-http if that "
                "network is yours");
        return -1;
    }
    return 0;
}

size_t net_redact(char *s, const char *secret)
{
    if (!s || !secret || !*secret) return 0;
    size_t slen = strlen(secret), count = 0;
    char *p = s;
    while ((p = strstr(p, secret)) != NULL) {
        size_t rest = strlen(p + slen);
        size_t rep = slen >= 3 ? 3 : slen;
        memcpy(p, "***", rep);
        memmove(p + rep, p + slen, rest + 1);
        p += rep;
        count++;
    }
    return count;
}

/* ---- backoff ------------------------------------------------------------ */

void net_rng_seed(uint64_t *rng, uint64_t seed)
{
    *rng = seed ^ 0x9e3779b97f4a7c15ull;
    if (*rng == 0) *rng = 0x2545f4914f6cdd1dull;
}

uint64_t net_rng_next(uint64_t *rng)
{
    uint64_t x = *rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *rng = x;
    return x * 0x2545f4914f6cdd1dull;
}

long net_backoff_ms(unsigned attempt, long base_ms, long cap_ms, uint64_t *rng)
{
    if (base_ms <= 0) base_ms = 1;
    if (cap_ms < base_ms) cap_ms = base_ms;
    long ceil = base_ms;
    for (unsigned i = 0; i < attempt && ceil < cap_ms; i++) ceil *= 2;
    if (ceil > cap_ms) ceil = cap_ms;
    return (long)(net_rng_next(rng) % (uint64_t)(ceil + 1));
}

/* ---- token buckets ------------------------------------------------------ */

void net_bucket_init(net_bucket *b, double per, double seconds,
                        double burst, uint64_t now_ms)
{
    b->rate = per / (seconds * 1000.0);
    b->burst = burst < 1 ? 1 : burst;
    b->tokens = b->burst;
    b->last_ms = now_ms;
    b->blocked_until_ms = 0;
}

static void refill(net_bucket *b, uint64_t now_ms)
{
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * b->rate;
        if (b->tokens > b->burst) b->tokens = b->burst;
        b->last_ms = now_ms;
    }
}

long net_bucket_wait_ms(net_bucket *b, uint64_t now_ms)
{
    if (now_ms < b->blocked_until_ms) return (long)(b->blocked_until_ms - now_ms);
    refill(b, now_ms);     /* (refill ignores times before last_ms) */
    if (b->tokens >= 1.0) return 0;
    double need = (1.0 - b->tokens) / b->rate;
    long ms = (long)need + 1;
    return ms > 0 ? ms : 1;
}

void net_bucket_take(net_bucket *b, uint64_t now_ms)
{
    refill(b, now_ms);
    b->tokens -= 1.0;
}

void net_bucket_block(net_bucket *b, uint64_t now_ms, long ms)
{
    if (ms < 0) ms = 0;
    uint64_t until = now_ms + (uint64_t)ms;
    if (until <= b->blocked_until_ms) return;
    b->blocked_until_ms = until;
    /* When the block ends there is one token, not a burst. */
    b->tokens = 1.0;
    b->last_ms = until;
}

/* ---- time and logs ------------------------------------------------------ */

uint64_t net_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void net_log(const char *level, const char *event, const char *fmt, ...)
{
    char line[1024];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t t = ts.tv_sec;
    gmtime_r(&t, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s event=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L, level, event);
    if (n < 0) return;
    size_t used = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (fmt && *fmt && used + 2 < sizeof line) {
        line[used++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + used, sizeof line - used, fmt, ap);
        va_end(ap);
        if (m > 0) used += (size_t)m < sizeof line - used ? (size_t)m : sizeof line - used - 1;
    }
    for (size_t i = 0; i < used; i++)
        if (line[i] == '\n' || line[i] == '\r') line[i] = ' ';
    if (used >= sizeof line - 1) used = sizeof line - 2;
    line[used++] = '\n';
    ssize_t w = write(2, line, used);
    (void)w;
}

const char *net_quote(const char *s, char *out, size_t outlen)
{
    if (!outlen) return out;
    size_t o = 0;
    if (o + 1 < outlen) out[o++] = '"';
    for (; s && *s && o + 3 < outlen; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            out[o++] = '\\';
            out[o++] = (char)ch;
        } else {
            out[o++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
        }
    }
    if (o + 1 < outlen) out[o++] = '"';
    out[o] = '\0';
    return out;
}

const char *net_rule_fields(const struct pp_answer *a, char *out, size_t outlen)
{
    const pp_reply *r = a && a->had_reply ? &a->reply : NULL;
    snprintf(out, outlen, " rule=%s framework=%s role=%s safety=%d",
             r && r->rule ? r->rule : "-", r && r->framework ? r->framework : "-",
             r ? pp_role_name(r->role) : "-", r ? r->safety : 0);
    return out;
}

/* ---- one instance per state file ------------------------------------------ */

int net_lock_state(const char *state_path, char *err, size_t errlen)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s.lock", state_path) >= (int)sizeof path) {
        snprintf(err, errlen, "the state path %s is too long", state_path);
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open the lock file %s beside the state file: %s",
                 path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strspn(pid, "0123456789")] = '\0';
        close(fd);
        if (e == EWOULDBLOCK)
            snprintf(err, errlen, "another instance is running on the state file %s "
                     "(%s%s holds %s): stop it first, or give this one its own --state",
                     state_path, pid[0] ? "pid " : "a process", pid, path);
        else
            snprintf(err, errlen, "cannot lock %s: %s", path, strerror(e));
        return -1;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) { /* only a hint */ }
    return fd;
}
