/* reply.c -- `pushpull reply`: the scripting contract.
 *
 * One message per line on stdin, one reply per line on stdout, all in one
 * session (resumed from the state file like the chat).  Lines may hold any
 * bytes, NULs included, and any length (lines.c keeps a bounded part of
 * each); a reply's paragraphs are joined with spaces so it stays one line.
 * With --json every output line is exactly one JSON object: text, rule,
 * role, framework, safety, reply (plus set, article, notice, command).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "app.h"
#include "cli.h"
#include "lines.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: pushpull reply [--json] [OPTIONS] < messages\n\n"
               "Reads one message per line and writes one reply per line, in one session.\n\n"
               "  --json               one JSON object per line: text, rule, role, framework,\n"
               "                       safety, mixed, reply (and set, article, notice, command)\n");
    pp_cli_common_usage(f);
    fprintf(f, "  --keep-transcripts   also store the text of each turn (off by default)\n\n"
               "Exit status: 0 ok, 1 the rules could not be loaded or a read or write failed,\n"
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

int pp_cmd_reply(int argc, char **argv)
{
    pp_cli_common c = {0};
    int json = 0;
    for (int i = 1; i < argc; i++) {
        int r = pp_cli_common_opt(&c, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) { usage(stdout); return 0; }
        else if (strcmp(argv[i], "--version") == 0) { printf("pushpull %s\n", PP_VERSION); return 0; }
        else { fprintf(stderr, "pushpull reply: unknown option '%s'\n", argv[i]); usage(stderr); return 2; }
    }
    pp_ruleset *rs = pp_cli_load_rules(&c);
    if (!rs) return 1;
    pp_cli_conv cv;
    if (pp_cli_conv_open(&cv, &c, rs)) { pp_rules_free(rs); return 1; }
    pp_cli_lines *in = pp_cli_lines_open(STDIN_FILENO, "pushpull reply");
    if (!in) {
        fprintf(stderr, "pushpull reply: out of memory\n");
        pp_cli_conv_close(&cv);
        pp_rules_free(rs);
        return 1;
    }
    const char *line;
    size_t len;
    int got, status = 0;
    while ((got = pp_cli_lines_next(in, &line, &len)) > 0) {
        pp_answer a;
        int rc = pp_dialog_turn(&cv.dialog, line, len, &a);
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
        if (pp_cli_flush() != 0 || quit) break;
    }
    if (got < 0) {
        perror("pushpull reply: standard input");
        status = 1;
    }
    pp_cli_lines_close(in);
    pp_cli_conv_close(&cv);
    pp_rules_free(rs);
    return status;
}
