/* Checkpoints of the tail source: one small JSON file per tailed file,
 *
 *   {"version":1,"path":"/var/log/app.log.1","source":"/var/log/app.log",
 *    "dev":2049,"ino":131,"fingerprint":"8f2c...","fp_len":256,"offset":1048576}
 *
 * (path: where the file is; source: the name it was first seen under,
 * which its events' positions, and so alert and timeline ids, carry)
 *
 * named after the file's identity (<dev>-<ino>.ckpt), replaced atomically:
 * written to a temporary file, fsync'ed, renamed over the old one, and the
 * directory fsync'ed, so a crash leaves the old checkpoint or the new one,
 * never a mix. A checkpoint that would not change is not written again. */
#include "logloom/ingest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

static void render(struct ll_buf *b, const struct ll_tail_pos *p)
{
    ll_buf_reset(b);
    ll_buf_puts(b, "{\"version\":1,\"path\":");
    ll_buf_json_str(b, p->path, strlen(p->path));
    ll_buf_puts(b, ",\"source\":");
    ll_buf_json_str(b, p->source, strlen(p->source));
    ll_buf_printf(b, ",\"dev\":%llu,\"ino\":%llu,\"fingerprint\":\"%016llx\",\"fp_len\":%u,"
                     "\"offset\":%llu}\n",
                  (unsigned long long)p->dev, (unsigned long long)p->ino,
                  (unsigned long long)p->fp, p->fp_len, (unsigned long long)p->offset);
}

static bool same_content(const char *path, const struct ll_buf *b)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char cur[PATH_MAX + 256];
    ssize_t n = read(fd, cur, sizeof cur);
    close(fd);
    return n == (ssize_t)b->len && memcmp(cur, b->data, b->len) == 0;
}

static bool write_atomic(const char *dir, const char *name, const struct ll_buf *b, char *err,
                         size_t errsz)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (same_content(path, b))
        return true;
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    /* O_NOFOLLOW: a symlink planted in a shared directory under that name
     * must not make the daemon truncate and write another file. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    int e = fd < 0 ? errno : ll_write_all(fd, b->data, b->len);
    if (!e && fsync(fd) != 0)
        e = errno;
    if (fd >= 0 && close(fd) != 0 && !e)
        e = errno;
    if (!e && rename(tmp, path) != 0)
        e = errno;
    if (e) {
        snprintf(err, errsz, "checkpoint %s: %s", path, strerror(e));
        unlink(tmp);
    }
    return !e;
}

static bool make_dir(const char *dir, char *err, size_t errsz)
{
    int e = ll_dirs_make(dir, 0700);
    if (!e)
        return true;
    snprintf(err, errsz, "checkpoint directory %s: %s", dir, strerror(e));
    return false;
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int ll_checkpoint_dir_check(const char *dir, char *err, size_t errsz)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            snprintf(err, errsz, "%s: not a directory", dir);
            return LL_EIO;
        }
        char probe[PATH_MAX];
        snprintf(probe, sizeof probe, "%s/.probe-%ld", dir, (long)getpid());
        int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            snprintf(err, errsz, "%s: cannot write there: %s", dir,
                     strerror(errno));
            return LL_EIO;
        }
        close(fd);
        unlink(probe);
        return LL_OK;
    }
    /* Made at the first checkpoint: where it would be made must allow it. */
    return ll_dir_makeable(dir, err, errsz);
}

int ll_checkpoint_file_save(const char *dir, const char *name, const char *data, size_t len,
                            char *err, size_t errsz)
{
    if (!make_dir(dir, err, errsz))
        return LL_EIO;
    struct ll_buf b = {(char *)data, len, len};
    if (!write_atomic(dir, name, &b, err, errsz))
        return LL_EIO;
    sync_dir(dir);
    return LL_OK;
}

int ll_checkpoint_file_load(const char *dir, const char *name, char **data, char *err,
                            size_t errsz)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    *data = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return LL_OK;
        snprintf(err, errsz, "checkpoint %s: %s", path, strerror(errno));
        return LL_EIO;
    }
    struct ll_buf b = {0};
    char chunk[65536];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0)
        ll_buf_append(&b, chunk, (size_t)n);
    int e = errno;
    close(fd);
    if (n < 0) {
        snprintf(err, errsz, "checkpoint %s: %s", path, strerror(e));
        ll_buf_free(&b);
        return LL_EIO;
    }
    *data = b.data ? b.data : ll_strdup("");
    return LL_OK;
}

static bool is_checkpoint(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".ckpt") == 0;
}

int ll_checkpoints_save(const char *dir, const struct ll_tail_pos *pos, size_t n, char *err,
                        size_t errsz)
{
    if (!make_dir(dir, err, errsz))
        return LL_EIO;
    struct ll_buf b = {0};
    bool ok = true;
    char name[64];
    for (size_t i = 0; i < n && ok; i++) {
        snprintf(name, sizeof name, "%llx-%llx.ckpt", (unsigned long long)pos[i].dev,
                 (unsigned long long)pos[i].ino);
        render(&b, &pos[i]);
        ok = write_atomic(dir, name, &b, err, errsz);
    }
    ll_buf_free(&b);
    /* Files no longer tailed (read to their end and gone) have no
     * checkpoint any more. */
    DIR *d = ok ? opendir(dir) : NULL;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (!is_checkpoint(de->d_name))
            continue;
        bool keep = false;
        for (size_t i = 0; i < n && !keep; i++) {
            snprintf(name, sizeof name, "%llx-%llx.ckpt", (unsigned long long)pos[i].dev,
                     (unsigned long long)pos[i].ino);
            keep = strcmp(name, de->d_name) == 0;
        }
        if (!keep)
            unlinkat(dirfd(d), de->d_name, 0);
    }
    if (d) {
        fsync(dirfd(d)); /* the renames and removals themselves */
        closedir(d);
    }
    return ok ? LL_OK : LL_EIO;
}

static bool get_u64(yajl_val root, const char *key, uint64_t *out)
{
    const char *path[] = {key, NULL};
    yajl_val v = yajl_tree_get(root, path, yajl_t_number);
    if (!v || !YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0)
        return false;
    *out = (uint64_t)YAJL_GET_INTEGER(v);
    return true;
}

/* One checkpoint file into @p p; false if it is not one. */
static bool parse(const char *text, struct ll_tail_pos *p)
{
    char err[128];
    yajl_val root = yajl_tree_parse(text, err, sizeof err);
    if (!root)
        return false;
    const char *pk[] = {"path", NULL}, *fk[] = {"fingerprint", NULL}, *sk[] = {"source", NULL};
    yajl_val path = yajl_tree_get(root, pk, yajl_t_string);
    yajl_val source = yajl_tree_get(root, sk, yajl_t_string);
    yajl_val fp = yajl_tree_get(root, fk, yajl_t_string);
    uint64_t fp_len = 0, version = 0;
    char *end = NULL;
    bool ok = path && source && fp && get_u64(root, "version", &version) && version == 1 &&
              get_u64(root, "dev", &p->dev) && get_u64(root, "ino", &p->ino) &&
              get_u64(root, "fp_len", &fp_len) && fp_len <= 256 &&
              get_u64(root, "offset", &p->offset);
    const char *hex = fp ? YAJL_GET_STRING(fp) : NULL;
    if (ok && hex) {
        p->fp = strtoull(hex, &end, 16);
        ok = end && !*end && *hex;
    }
    if (ok) {
        p->fp_len = (uint32_t)fp_len;
        p->path = ll_strdup(YAJL_GET_STRING(path) ? YAJL_GET_STRING(path) : "");
        p->source = ll_strdup(YAJL_GET_STRING(source) ? YAJL_GET_STRING(source) : "");
    }
    yajl_tree_free(root);
    return ok;
}

int ll_checkpoints_load(const char *dir, struct ll_tail_pos **out, size_t *n, char *err,
                        size_t errsz)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return LL_OK; /* the first start */
        snprintf(err, errsz, "checkpoint directory %s: %s", dir, strerror(errno));
        return LL_EIO;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!is_checkpoint(de->d_name))
            continue;
        char path[PATH_MAX], text[PATH_MAX + 256];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t len = fd >= 0 ? read(fd, text, sizeof text - 1) : -1;
        if (fd >= 0)
            close(fd);
        struct ll_tail_pos p = {0};
        if (len <= 0 || (text[len] = '\0', !parse(text, &p))) {
            ll_log(LL_LEVEL_WARN, "checkpoint", "%s: not a checkpoint; ignored", path);
            continue;
        }
        *out = ll_reallocarray(*out, *n + 1, sizeof **out);
        (*out)[(*n)++] = p;
    }
    closedir(d);
    return LL_OK;
}

void ll_checkpoints_free(struct ll_tail_pos *pos, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ll_free((char *)pos[i].path);
        ll_free((char *)pos[i].source);
    }
    ll_free(pos);
}
