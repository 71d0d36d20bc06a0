/* net.h -- plumbing shared by the chat bots (Telegram, Matrix).
 *
 * Four small things every long-running bot needs:
 *   net_*        an HTTP client over libcurl, and the check of the base
 *                   URL it is pointed at (net_base_url_check).  One net_client owns one CURL
 *                   easy handle that is reused for every request, so the
 *                   connection stays alive between calls (keep-alive).  A
 *                   net_client belongs to one thread at a time: give each
 *                   thread its own.  Timeouts (connect, total, low speed)
 *                   and TCP keep-alive are always on; the response body is
 *                   capped; the HTTP status and Retry-After are returned.
 *                   Error messages never contain the URL, and a secret set
 *                   with net_set_secret() is redacted from them.
 *   net_backoff_ms  exponential backoff with full jitter.
 *   net_bucket_* token buckets for rate limits (not thread-safe: guard
 *                   them with the caller's lock).
 *   net_log      one line per event on stderr, key=value, written with a
 *                   single write(2) so lines from threads never interleave.
 *
 * Status codes: 0 ok (an HTTP response arrived, whatever its status), or a
 * negative PP_NET_E* with a message in err.
 */
#ifndef PP_NET_H
#define PP_NET_H

#include <stddef.h>
#include <stdint.h>

#define PP_NET_ECONN     -20   /* could not connect / connection dropped */
#define PP_NET_ETIMEOUT  -21   /* connect, total or low-speed timeout */
#define PP_NET_ECANCEL   -22   /* *cancel became non-zero */
#define PP_NET_ETOOBIG   -23   /* body larger than max_body */
#define PP_NET_EOTHER    -24   /* any other transport error */

#define PP_NET_MAX_BODY  (4u * 1024u * 1024u)

/* Call once per process before any thread starts (curl_global_init). */
int net_global_init(void);
void net_global_cleanup(void);

typedef struct net_client net_client;

typedef struct net_opts {
    long connect_timeout_ms;   /* 0 = 10000 */
    long timeout_ms;           /* default total timeout; 0 = 30000 */
    long low_speed_bytes;      /* abort when slower than this... 0 = 1 */
    long low_speed_secs;       /* ...for this long; 0 = 30 */
    size_t max_body;           /* 0 = PP_NET_MAX_BODY */
    const char *user_agent;    /* NULL = "pushpull/<version>" */
} net_opts;

/* A new connection handle (opts may be NULL for the defaults).  NULL with a
 * message in err on failure.  Free with net_free(). */
net_client *net_new(const net_opts *opts, char *err, size_t errlen);
void net_free(net_client *n);

/* Redact this string (a bot token) from every error message of n.  The
 * pointer is kept, not copied: it must outlive n. */
void net_set_secret(net_client *n, const char *secret);

/* When cancel is not NULL, a request in progress stops (PP_NET_ECANCEL)
 * within about 50 ms of *cancel becoming non-zero (a long poll included),
 * and none starts while it is.  The pointer must outlive n. */
void net_set_cancel(net_client *n, const volatile int *cancel);

typedef struct net_response {
    long status;         /* HTTP status, 0 when none arrived */
    char *body;          /* NUL-terminated, malloc'd; freed by _clear */
    size_t len;
    long retry_after;    /* Retry-After header in seconds, -1 when absent */
    double seconds;      /* wall time of the request */
} net_response;

void net_response_clear(net_response *r);

/* One request.  method "GET" or "POST"; headers is a NULL-terminated list
 * of "Name: value" lines (may be NULL); body/body_len the request body for
 * POST (content type application/json unless a header says otherwise);
 * timeout_ms 0 = the handle's default, >0 overrides it for this request
 * (the low-speed window is stretched to match, so a long poll is not cut).
 * Fills out (clear it afterwards, also on error). */
int net_request(net_client *n, const char *method, const char *url,
                   const char *const *headers, const char *body,
                   size_t body_len, long timeout_ms, net_response *out,
                   char *err, size_t errlen);

/* Check a base URL from the command line (--api-url, --homeserver) before
 * any request: "http://" or "https://", a host of ASCII letters, digits,
 * '-', '.' and '_' (or an IPv6 address in brackets), an optional port
 * 1..65535, then an optional path without spaces, control bytes, '?' or
 * '#'.  Plain http:// is refused unless the host is this machine
 * (127.0.0.0/8, ::1 or the name "localhost") or allow_insecure_http is
 * set: the bots' tokens must not cross a network in clear.  Pure, no
 * I/O.  0 ok, else -1 with a message for the user in err (it names
 * --allow-insecure-http when that is what would let the URL through). */
int net_base_url_check(const char *url, int allow_insecure_http, char *err, size_t errlen);

/* Replace every occurrence of secret in s (NUL-terminated) by "***", in
 * place.  Returns the number of replacements.  NULL or "" secret: none. */
size_t net_redact(char *s, const char *secret);

/* ---- backoff ------------------------------------------------------------ */

/* Seed a per-thread random state (xorshift64*); any seed, 0 included. */
void net_rng_seed(uint64_t *rng, uint64_t seed);
uint64_t net_rng_next(uint64_t *rng);

/* Full jitter: a uniform delay in [0, min(cap_ms, base_ms * 2^attempt)].
 * attempt counts from 0. */
long net_backoff_ms(unsigned attempt, long base_ms, long cap_ms, uint64_t *rng);

/* ---- token buckets ------------------------------------------------------ */

typedef struct net_bucket {
    double rate;          /* tokens per millisecond */
    double burst;         /* capacity */
    double tokens;
    uint64_t last_ms;     /* when tokens was last brought up to date */
    uint64_t blocked_until_ms;   /* a 429 said: nothing before this */
} net_bucket;

/* per_seconds tokens every `seconds` seconds (e.g. 20 per 60), at most
 * burst at once.  Starts full. */
void net_bucket_init(net_bucket *b, double per, double seconds,
                        double burst, uint64_t now_ms);
/* Milliseconds until a token is available (0 = now).  Takes nothing. */
long net_bucket_wait_ms(net_bucket *b, uint64_t now_ms);
/* Take one token (call after _wait_ms returned 0). */
void net_bucket_take(net_bucket *b, uint64_t now_ms);
/* Nothing is available before now_ms + ms (a 429's retry_after). */
void net_bucket_block(net_bucket *b, uint64_t now_ms, long ms);

/* ---- time and logs ------------------------------------------------------ */

uint64_t net_now_ms(void);     /* monotonic clock, milliseconds */

/* One line on stderr: "<UTC time> level=<level> event=<event> <fmt...>".
 * fmt adds key=value pairs; the caller never passes URLs or tokens.  The
 * line is cut at 1024 bytes and newlines in it become spaces. */
void net_log(const char *level, const char *event, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* What a reply line may say about the coaching, only with --log-rules
 * (debugging): " rule=ID framework=NAME role=ROLE safety=0|1", "-" for
 * none.  By default a bot's log carries none of it: next to a chat or room
 * id, a rule id such as safety.violence.hit records who disclosed what.
 * a may be NULL or without a reply (commands, non-text): " rule=- ...".
 * Returns out. */
struct pp_answer;
const char *net_rule_fields(const struct pp_answer *a, char *out, size_t outlen);

/* Quote a value for a log line: at most outlen-1 bytes, double quotes and
 * backslashes escaped, control bytes as spaces.  Returns out. */
const char *net_quote(const char *s, char *out, size_t outlen);

/* ---- one instance per state file --------------------------------------- */

/* Take the lock that lets one bot at a time run on a state database: an
 * exclusive flock(2) on "<state_path>.lock" (created 0600 beside it, never
 * on the database itself: closing another descriptor of an SQLite file
 * drops SQLite's own locks).  The lock file holds the pid of its holder.
 * Returns the descriptor to keep open for the life of the process (the
 * kernel releases the lock when it ends, kill -9 included), or -1 with a
 * message for the user in err naming the state file, and the pid holding
 * it when another instance does. */
int net_lock_state(const char *state_path, char *err, size_t errlen);

#endif
