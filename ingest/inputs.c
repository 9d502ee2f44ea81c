/* Input paths: files, directories walked recursively, and glob patterns,
 * expanded into a sorted list of regular files; and the service name a file
 * name implies. */
#include "logloom/ingest.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_DIR_DEPTH 64

struct file_id {
    dev_t dev;
    ino_t ino;
};

struct expand {
    struct ll_input_list *out;
    struct file_id *seen; /* files already listed */
    size_t n_seen;
    struct file_id dirs[MAX_DIR_DEPTH]; /* directories on the current walk */
    int depth;
    char *errstr;
    size_t errstr_size;
};

static bool seen_file(struct expand *x, const struct stat *st)
{
    for (size_t i = 0; i < x->n_seen; i++)
        if (x->seen[i].dev == st->st_dev && x->seen[i].ino == st->st_ino)
            return true;
    x->seen = ll_reallocarray(x->seen, x->n_seen + 1, sizeof *x->seen);
    x->seen[x->n_seen++] = (struct file_id){st->st_dev, st->st_ino};
    return false;
}

static void list_add(struct ll_input_list *l, const char *path)
{
    l->paths = ll_reallocarray(l->paths, l->n + 1, sizeof *l->paths);
    l->paths[l->n++] = ll_strdup(path);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_path(struct expand *x, const char *path, bool explicit_arg);

static int walk_dir(struct expand *x, const char *dir, const struct stat *st)
{
    for (int i = 0; i < x->depth; i++)
        if (x->dirs[i].dev == st->st_dev && x->dirs[i].ino == st->st_ino) {
            ll_log(LL_LEVEL_WARN, "input", "%s: directory loop, skipped", dir);
            return LL_OK;
        }
    if (x->depth == MAX_DIR_DEPTH) {
        ll_log(LL_LEVEL_WARN, "input", "%s: deeper than %d directories, skipped", dir,
               MAX_DIR_DEPTH);
        return LL_OK;
    }
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(x->errstr, x->errstr_size, "%s: %s", dir, strerror(errno));
        return LL_EIO;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue; /* ".", "..", and hidden files */
        names = ll_reallocarray(names, n + 1, sizeof *names);
        names[n++] = ll_strdup(de->d_name);
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    x->dirs[x->depth++] = (struct file_id){st->st_dev, st->st_ino};
    int rc = LL_OK;
    struct ll_buf child = {0};
    for (size_t i = 0; i < n; i++) {
        ll_buf_reset(&child);
        ll_buf_printf(&child, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]);
        if (rc == LL_OK)
            rc = add_path(x, child.data, false);
        ll_free(names[i]);
    }
    x->depth--;
    ll_buf_free(&child);
    ll_free(names);
    return rc;
}

static int add_path(struct expand *x, const char *path, bool explicit_arg)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (!explicit_arg) { /* a dangling link inside a directory */
            ll_log(LL_LEVEL_WARN, "input", "%s: %s, skipped", path, strerror(errno));
            return LL_OK;
        }
        snprintf(x->errstr, x->errstr_size, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? LL_ENOENT : LL_EIO;
    }
    if (S_ISDIR(st.st_mode))
        return walk_dir(x, path, &st);
    if (!S_ISREG(st.st_mode)) {
        if (explicit_arg) {
            snprintf(x->errstr, x->errstr_size, "%s: not a regular file or directory", path);
            return LL_EINVAL;
        }
        return LL_OK;
    }
    if (!seen_file(x, &st))
        list_add(x->out, path);
    return LL_OK;
}

static bool has_glob_chars(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

/* Where and why the last glob() stopped (it passes its error callback no
 * context of ours). */
static _Thread_local struct {
    char path[256];
    int err;
} glob_failure;

static int on_glob_error(const char *path, int err)
{
    snprintf(glob_failure.path, sizeof glob_failure.path, "%s", path);
    glob_failure.err = err;
    return 1; /* stop, as GLOB_ERR asks */
}

int ll_inputs_expand(const char *const *paths, size_t n, struct ll_input_list *out,
                     char *errstr, size_t errstr_size)
{
    *out = (struct ll_input_list){0};
    struct expand x = {.out = out, .errstr = errstr, .errstr_size = errstr_size};
    int rc = LL_OK;
    for (size_t i = 0; i < n && rc == LL_OK; i++) {
        struct stat st;
        if (!has_glob_chars(paths[i]) || stat(paths[i], &st) == 0) {
            rc = add_path(&x, paths[i], true);
            continue;
        }
        glob_t g;
        glob_failure.err = 0;
        int grc = glob(paths[i], GLOB_ERR, on_glob_error, &g);
        if (grc == GLOB_NOMATCH) {
            snprintf(errstr, errstr_size, "%s: no file matches", paths[i]);
            rc = LL_ENOENT;
        } else if (grc == GLOB_ABORTED && glob_failure.err) {
            snprintf(errstr, errstr_size, "%s: cannot expand pattern: %s: %s", paths[i],
                     glob_failure.path, strerror(glob_failure.err));
            rc = LL_EIO;
        } else if (grc != 0) {
            snprintf(errstr, errstr_size, "%s: cannot expand pattern", paths[i]);
            rc = LL_EIO;
        } else {
            /* What a pattern matches is listed like a directory's entries:
             * a symlink loop or a dangling link is skipped with a warning,
             * not a reason to stop. */
            for (size_t k = 0; k < g.gl_pathc && rc == LL_OK; k++)
                rc = add_path(&x, g.gl_pathv[k], false);
        }
        if (grc != GLOB_NOMATCH)
            globfree(&g);
    }
    ll_free(x.seen);
    /* One order whatever the order of the arguments: merge ties are broken by
     * input order, and output must not depend on how the user listed files. */
    if (out->n > 1)
        qsort(out->paths, out->n, sizeof *out->paths, cmp_str);
    return rc;
}

void ll_input_list_free(struct ll_input_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        ll_free(list->paths[i]);
    ll_free(list->paths);
    *list = (struct ll_input_list){0};
}

static bool ends_with(struct ll_str s, const char *suffix)
{
    size_t n = strlen(suffix);
    return s.len > n && memcmp(s.ptr + s.len - n, suffix, n) == 0;
}

/* Strips ".N" where N is all digits (a rotation number). */
static bool strip_rotation(struct ll_str *s)
{
    size_t i = s->len;
    while (i && s->ptr[i - 1] >= '0' && s->ptr[i - 1] <= '9')
        i--;
    if (i == s->len || i < 2 || s->ptr[i - 1] != '.')
        return false;
    s->len = i - 1;
    return true;
}

struct ll_str ll_service_from_path(const char *path)
{
    static const char *const exts[] = {".log", ".jsonl", ".ndjson", ".json", ".txt"};
    struct ll_k8s_names k;
    if (ll_k8s_names_from_path(path, &k))
        return k.container;
    const char *base = strrchr(path, '/');
    struct ll_str s = ll_str_c(base ? base + 1 : path);
    /* name[.ext][.N][.gz], each part at most once, from the right. */
    if (ends_with(s, ".gz"))
        s.len -= 3;
    strip_rotation(&s);
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (ends_with(s, exts[i])) {
            s.len -= strlen(exts[i]);
            break;
        }
    return s;
}

void ll_event_set_origin(struct ll_event *ev, struct ll_str file, struct ll_arena *arena)
{
    if (!file.len)
        return;
    ev->origin = file;
    if (ev->service.len && !(ev->flags & LL_EV_RAW))
        return;
    char *path = ll_arena_alloc(arena, file.len + 1);
    memcpy(path, file.ptr, file.len);
    path[file.len] = '\0';
    ev->service = ll_service_from_path(path);
    ev->flags |= LL_EV_SERVICE_FROM_NAME;
}
