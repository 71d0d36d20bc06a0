/* sessions.c -- one's own data: `pushpull export` and `pushpull sessions`.
 *
 *   pushpull export [--session NAME] [--state PATH]
 *       what the state file holds about one CLI conversation, as the JSON
 *       document of pp_store_export (the same one /export answers with);
 *       it only looks: the last session used stays as it was.
 *   pushpull sessions [--json] [--state PATH]
 *       the saved CLI conversations: name, when last saved, turns.
 *   pushpull sessions delete NAME [--state PATH]
 *       what /forget deletes in that conversation, from the file's bytes
 *       too (pp_store_forget: secure_delete, the WAL checkpointed and cut).
 *
 * Only the CLI's own conversations ("cli:" keys) are listed or deleted
 * here; the bots' chats are their users' to export and /forget.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <jansson.h>

#include "app.h"
#include "cli.h"

/* 1 when there is no state file at path (NULL: the default one): these
 * subcommands only read, and do not make one to say it is empty.  The
 * path it names goes in where (for messages). */
static int no_state_file(const char *path, char *where, size_t len)
{
    char err[256];
    if (!path) {
        if (pp_store_default_path(where, len, err, sizeof err) != 0) return 0;  /* open says why */
        path = where;
    } else {
        snprintf(where, len, "%s", path);
    }
    struct stat sb;
    return stat(path, &sb) != 0 && errno == ENOENT;
}

static void export_usage(FILE *f)
{
    fprintf(f, "usage: pushpull export [--session NAME] [--state PATH]\n\n"
               "Writes what the state file keeps about one conversation (default: the last\n"
               "one used) as JSON on standard output: the saved session, the partner as it\n"
               "knows them, when it was saved, its transcript (only kept with\n"
               "--keep-transcripts), the event ids and settings tied to it.  Nothing is\n"
               "changed, and no state file is made: with --no-state, or none there, the\n"
               "document is of an empty session.\n\n"
               "Exit status: 0 ok, 1 the state file could not be read, 2 usage error.\n");
}

int cli_export(int argc, char **argv)
{
    static const char *const names[] = { "--help", "--version", NULL };
    app_common c = { .look_only = 1 };
    for (int i = 1; i < argc; i++) {
        int r = app_common_opt(&c, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            export_usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("pushpull %s\n", PP_VERSION);
            return 0;
        }
        return app_unknown_arg("pushpull export", argv[i], names, 1);
    }
    char where[PATH_MAX];
    if (!c.no_state && no_state_file(c.state_path, where, sizeof where))
        c.no_state = 1;   /* nothing kept: the document of an empty session */
    app_conv cv;
    if (app_conv_open(&cv, &c, NULL)) return 1;
    int status = 0;
    if (cv.store_unusable[0]) {
        /* said on stderr already; an empty document would not be true */
        status = 1;
    } else {
        char err[512] = "";
        char *json = pp_store_export(cv.store, cv.key, cv.session, 0, err, sizeof err);
        if (json) printf("%s\n", json);
        else fprintf(stderr, "pushpull export: %s\n", err);
        status = json ? 0 : 1;
        free(json);
    }
    app_conv_close(&cv);
    return status;
}

static void sessions_usage(FILE *f)
{
    fprintf(f, "usage: pushpull sessions [--json] [--state PATH]\n"
               "       pushpull sessions delete NAME [--state PATH]\n\n"
               "Lists the conversations saved in the state file (name, when last saved,\n"
               "turns), the most recent first, or deletes one: what /forget deletes in it,\n"
               "overwritten on disk too.\n\n"
               "  --json         one JSON array of {name, last_used, turns}\n"
               "  --state PATH   the state file (default $XDG_STATE_HOME/pushpull/state.db)\n\n"
               "Exit status: 0 ok, 1 the state file could not be used or NAME is not saved,\n"
               "2 usage error.\n");
}

typedef struct {
    json_t *list;     /* --json: the array being built */
    size_t count;
    time_t now;
    const char *want; /* delete: the key looked for */
    int found;
} walk;

/* A name as a terminal may show it: control bytes become '?'; padded
 * with spaces to width. */
static void put_name_padded(FILE *f, const char *name, int width)
{
    int n = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++, n++)
        fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
    for (; n < width; n++) fputc(' ', f);
}
static void put_name(const char *name, int width) { put_name_padded(stdout, name, width); }
static void put_name_to(FILE *f, const char *name) { put_name_padded(f, name, 0); }

static int list_one(const pp_store_entry *e, void *arg)
{
    walk *w = arg;
    const char *name = e->key + 4;   /* after "cli:" */
    char when[32] = "", ago[64];
    time_t t = (time_t)e->updated;
    struct tm tm;
    if (gmtime_r(&t, &tm)) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    w->count++;
    if (w->list) {
        json_t *o = json_pack("{s:s, s:s, s:i}", "name", name, "last_used", when,
                              "turns", e->turns);
        if (o) json_array_append_new(w->list, o);
        return 0;
    }
    if (w->count == 1) printf("%-24s  %-20s  %s\n", "NAME", "LAST USED", "TURNS");
    app_ago((long long)(w->now - t), ago, sizeof ago);
    put_name(name, 24);
    printf("  %-20s  ", when);
    if (e->turns >= 0) printf("%d", e->turns);
    else printf("?");
    printf("  (%s)\n", ago);
    return 0;
}

static int find_one(const pp_store_entry *e, void *arg)
{
    walk *w = arg;
    if (strcmp(e->key, w->want) == 0) w->found = 1;
    return w->found;
}

int cli_sessions(int argc, char **argv)
{
    static const char *const names[] = { "--json", "--state", "--help", "--version", NULL };
    const char *state = NULL, *del = NULL;
    int json = 0, deleting = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            sessions_usage(stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0) {
            printf("pushpull %s\n", PP_VERSION);
            return 0;
        }
        if (strcmp(a, "--json") == 0) { json = 1; continue; }
        if (strcmp(a, "--state") == 0) {
            if (i + 1 >= argc || !argv[i + 1][0]) {
                fprintf(stderr, "pushpull sessions: --state needs a PATH\n");
                return 2;
            }
            state = argv[++i];
            continue;
        }
        if (strncmp(a, "--state=", 8) == 0 && a[8]) { state = a + 8; continue; }
        if (i == 1 && strcmp(a, "delete") == 0) { deleting = 1; continue; }
        if (deleting && !del && a[0] != '-') { del = a; continue; }
        return app_unknown_arg("pushpull sessions", a, names, 0);
    }
    if (deleting && !del) {
        fprintf(stderr, "pushpull sessions delete: which session? (pushpull sessions lists them)\n");
        return 2;
    }
    if (deleting && json) return app_unknown_arg("pushpull sessions delete", "--json", NULL, 0);
    char key[4 + PP_CLI_MAX_SESSION + 1];
    if (del && (!del[0] || strlen(del) > PP_CLI_MAX_SESSION)) {
        fprintf(stderr, "pushpull sessions delete: a session name is 1 to %d bytes\n",
                PP_CLI_MAX_SESSION);
        return 2;
    }
    if (del) snprintf(key, sizeof key, "cli:%s", del);

    char err[512] = "", where[PATH_MAX];
    if (no_state_file(state, where, sizeof where)) {
        if (del) {
            fprintf(stderr, "pushpull sessions delete: no saved session named '");
            put_name_to(stderr, del);
            fprintf(stderr, "' (there is no state file at %s)\n", where);
            return 1;
        }
        if (json) printf("[]\n");
        else printf("No saved sessions (there is no state file at %s).\n", where);
        return 0;
    }
    pp_store *st = NULL;
    if (pp_store_open_ex(state, &st, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "pushpull sessions: %s\n", err);
        return 1;
    }
    int status = 0;
    walk w = { .now = time(NULL), .want = del ? key : NULL };
    if (del) {
        /* forget even when no row is there: a transcript, marks or the
         * last-session note may be */
        if (pp_store_sessions(st, key, find_one, &w, err, sizeof err) != 0 ||
            pp_store_forget(st, key, err, sizeof err) != 0) {
            fprintf(stderr, "pushpull sessions delete: %s\n", err);
            status = 1;
        } else if (!w.found) {
            fprintf(stderr, "pushpull sessions delete: no saved session named '");
            put_name_to(stderr, del);
            fprintf(stderr, "' (pushpull sessions lists them)\n");
            status = 1;
        } else {
            printf("Deleted the session ");
            put_name(del, 0);
            printf(": everything kept about it is gone from %s.\n", pp_store_path(st));
        }
    } else {
        if (json) w.list = json_array();
        if (pp_store_sessions(st, "cli:", list_one, &w, err, sizeof err) != 0) {
            fprintf(stderr, "pushpull sessions: %s\n", err);
            status = 1;
        } else if (json) {
            char *text = json_dumps(w.list, JSON_INDENT(2));
            if (text) printf("%s\n", text);
            else status = 1;
            free(text);
        } else if (w.count == 0) {
            printf("No saved sessions in %s.\n", pp_store_path(st));
        }
        json_decref(w.list);
    }
    pp_store_close(st);
    return status;
}
