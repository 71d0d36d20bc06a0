/* reply.c -- `pushpull reply`: the scripting contract.
 *
 * One message per line on stdin, or from the files named (`-` is stdin),
 * one after the other like cat(1), one reply per line on stdout, all in
 * one session (resumed from the state file like the chat).  A file that
 * cannot be read is said and skipped, and the run exits 1.  Lines may hold any
 * bytes, NULs included, and any length (lines.c keeps a bounded part of
 * each); a reply's paragraphs are joined with spaces so it stays one line.
 * With --json every output line is exactly one JSON object: text, rule,
 * role, framework, safety, reply (plus set, article, notice, command).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>

#include "app.h"
#include "cli.h"
#include "lines.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: pushpull reply [--json] [OPTIONS] [FILE...]\n\n"
               "Reads one message per line from each FILE in turn (\"-\" or none: standard\n"
               "input) and writes one reply per line, all in one session.\n\n"
               "  --json               one JSON object per line: text, rule, role, framework,\n"
               "                       safety, mixed, reply (and set, article, notice, command)\n");
    app_common_usage(f);
    fprintf(f, "  --keep-transcripts   also store the text of each turn (off by default)\n\n"
               "The region defaults to the locale's country (LANG=en_GB.UTF-8: uk).\n"
               "Exit status: 0 ok, 1 the rules could not be loaded, a file could not be read\n"
               "or a write failed,\n"
               "2 usage error.\n");
}

static void flatten(char *s)
{
    for (char *p = s; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    /* squeeze the double spaces paragraphs leave */
    char *w = s;
    for (char *p = s; *p; p++)
        if (!(*p == ' ' && w > s && w[-1] == ' ')) *w++ = *p;
    *w = '\0';
}

/* Answer every line of fd (name for messages: "standard input" or the
 * path): 0 at its end, 1 on a read error (said), 2 when the run stops
 * (/quit, or a write failed: main() says why). */
static int answer_stream(app_conv *cv, int fd, const char *name, int json)
{
    app_lines *in = app_lines_open(fd, "pushpull reply");
    if (!in) {
        fprintf(stderr, "pushpull reply: out of memory\n");
        return 1;
    }
    const char *line;
    size_t len;
    int got, status = 0;
    while ((got = app_lines_next(in, &line, &len)) > 0) {
        pp_answer a;
        app_conv_clock(cv);
        int rc = pp_dialog_turn(&cv->dialog, line, len, &a);
        if (rc == PP_ESTORE) fprintf(stderr, "pushpull: could not save the session\n");
        const char *text = a.text ? a.text : "";
        if (json) {
            json_t *o = json_object();
            const pp_reply *r = a.had_reply ? &a.reply : NULL;
            json_object_set_new(o, "text", r ? json_string(r->input) : json_stringn(line, 0));
            if (!r) {
                /* a command: report the command line itself, repaired */
                size_t nl;
                const char *notice;
                char *norm = pp_input_normalize(line, len, &nl, &notice);
                json_object_set_new(o, "text", json_string(norm ? norm : ""));
                free(norm);
            }
            json_object_set_new(o, "rule", r && r->rule ? json_string(r->rule) : json_null());
            json_object_set_new(o, "role", json_string(pp_role_name(r ? r->role : PP_ROLE_NONE)));
            json_object_set_new(o, "framework", r && r->framework ? json_string(r->framework) : json_null());
            json_object_set_new(o, "act", r && r->act ? json_string(r->act) : json_null());
            json_object_set_new(o, "topic", r && r->topic ? json_string(r->topic) : json_null());
            json_object_set_new(o, "safety", json_boolean(r && r->safety));
            json_object_set_new(o, "mixed", json_boolean(r && r->mixed));
            json_object_set_new(o, "reply", json_string(text));
            json_object_set_new(o, "set", r && r->set ? json_string(r->set) : json_null());
            json_object_set_new(o, "article", r && r->article ? json_string(r->article) : json_null());
            json_object_set_new(o, "notice", r && r->notice ? json_string(r->notice) : json_null());
            json_object_set_new(o, "command", json_boolean(a.command));
            char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
            puts(s ? s : "{}");
            free(s);
            json_decref(o);
        } else {
            char *t = strdup(text);
            if (t) { flatten(t); puts(t); free(t); }
        }
        int quit = a.quit;
        pp_answer_clear(&a);
        /* nobody hears the rest: main() says why */
        if (app_flush() != 0 || quit) { status = 2; break; }
    }
    if (got < 0) {
        fprintf(stderr, "pushpull reply: %s: %s\n", name, strerror(errno));
        status = 1;
    }
    app_lines_close(in);
    return status;
}

int cli_reply(int argc, char **argv)
{
    static const char *const names[] = { "--json", "--help", "--version", NULL };
    app_common c = { .locale_region = 1 };
    int json = 0, nfiles = 0, dashdash = 0;
    char **files = calloc((size_t)argc + 1, sizeof *files);
    if (!files) { fprintf(stderr, "pushpull reply: out of memory\n"); return 1; }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (dashdash || strcmp(a, "-") == 0 || a[0] != '-') { files[nfiles++] = argv[i]; continue; }
        if (strcmp(a, "--") == 0) { dashdash = 1; continue; }
        int r = app_common_opt(&c, argc, argv, &i);
        if (r < 0) { free(files); return 2; }
        if (r) continue;
        if (strcmp(a, "--json") == 0) json = 1;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) { usage(stdout); free(files); return 0; }
        else if (strcmp(a, "--version") == 0) { printf("pushpull %s\n", PP_VERSION); free(files); return 0; }
        else { free(files); return app_unknown_arg("pushpull reply", a, names, 1); }
    }
    if (nfiles == 0) files[nfiles++] = "-";
    pp_ruleset *rs = app_load_rules(&c);
    if (!rs) { free(files); return 1; }
    app_conv cv;
    if (app_conv_open(&cv, &c, rs)) { pp_rules_free(rs); free(files); return 1; }
    int status = 0;
    for (int k = 0; k < nfiles; k++) {
        int stdin_ = strcmp(files[k], "-") == 0;
        int fd = stdin_ ? STDIN_FILENO : open(files[k], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "pushpull reply: %s: %s\n", files[k], strerror(errno));
            status = 1;
            continue;
        }
        int rc = answer_stream(&cv, fd, stdin_ ? "standard input" : files[k], json);
        if (!stdin_) close(fd);
        if (rc == 1) status = 1;
        if (rc == 2) break;
    }
    free(files);
    app_conv_close(&cv);
    pp_rules_free(rs);
    return status;
}
