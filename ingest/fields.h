/* Private to ingest/: the compiled set of field paths the decoder looks for.
 *
 * Paths are compiled into a trie of object keys. While the streaming parser
 * walks a line it keeps the trie node of every open object on a stack, so a
 * key is looked up once in a small hash table and whole subtrees nobody asked
 * for cost nothing but the parse. */
#ifndef LOGLOOM_INGEST_FIELDS_H
#define LOGLOOM_INGEST_FIELDS_H

#include "logloom/core.h"

/* What a path feeds. The order is only an index. */
enum ll__field {
    LL__F_TIME,
    LL__F_LEVEL,
    LL__F_MSG,
    LL__F_SERVICE,
    LL__F_PID,
    LL__F_HOST,
    LL__F_CORR,
    LL__F_CORR_NUM, /* a numeric id, on configured paths only */
    LL__F_ERR_OBJ, /* an error object or string is present */
    LL__F_ERR_TYPE,
    LL__F_ERR_MSG,
    LL__F_ERR_CODE,
    LL__F_ERR_ERRNO,
    LL__F_ERR_SYSCALL,
    LL__F_ERR_STACK,
    LL__F_EXIT_CODE,
    LL__F_BARE_CODE, /* a top-level numeric "code": an exit code next to "signal" */
    LL__F_SIGNAL,
    LL__F_SIGNAL_KEY, /* a "signal" key is present, whatever its value */
    LL__F_CHILD_PID,
    LL__F_CONN_ID,
    LL__F_BUNYAN_V, /* bunyan's "v": tells its lines from pino's */
    LL__F_COUNT
};

/* JSON value kinds a target accepts. */
enum ll__vtype {
    LL__T_STRING = 1 << 0,
    LL__T_NUMBER = 1 << 1,
    LL__T_BOOL = 1 << 2,
    LL__T_NULL = 1 << 3,
    LL__T_MAP = 1 << 4,
    LL__T_ANY = 0x1f,
};

#define LL__NODE_NONE UINT32_MAX

struct ll__target {
    uint16_t field; /* enum ll__field */
    uint16_t prio;  /* lower wins */
    uint8_t types;  /* enum ll__vtype mask */
};

struct ll__fnode {
    struct ll_str key;    /* owned by the field set */
    uint32_t first_child; /* index or LL__NODE_NONE */
    uint32_t next_sibling;
    uint32_t table;       /* offset of this node's child hash table */
    uint32_t table_mask;  /* size - 1; 0 when there are no children */
    uint32_t target_off;  /* targets[target_off .. + n_targets] */
    uint16_t n_targets;
    bool nocase;          /* children match ignoring ASCII case ("headers") */
};

struct ll__fieldset {
    struct ll__fnode *nodes;
    size_t n_nodes;
    struct ll__target *targets;
    size_t n_targets;
    uint32_t *owners; /* while building: the node of each target */
    uint32_t *tables; /* concatenated child tables of node indices */
    size_t n_tables;
    struct ll_arena names;
};

/* Add @p path (syntax: see ll_field_path_check) feeding @p field. */
int ll__fieldset_add(struct ll__fieldset *fs, const char *path, enum ll__field field,
                     uint16_t prio, uint8_t types, char *errstr, size_t errstr_size);
/* Build the lookup tables; call once after the last add. */
void ll__fieldset_seal(struct ll__fieldset *fs);
void ll__fieldset_free(struct ll__fieldset *fs);
static inline unsigned char ll__lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

/* Cheap and case-blind: the length and four sampled bytes, each with
 * the bit that tells ASCII cases apart set (other bytes may collide). */
static inline uint32_t ll__key_hash(const char *k, size_t len)
{
    if (!len)
        return 0;
    uint32_t h = (uint32_t)len * 0x9E3779B1u;
    h ^= ((unsigned char)k[0] | 0x20u) * 0x85EBCA77u;
    h ^= ((unsigned char)k[len - 1] | 0x20u) * 0xC2B2AE3Du;
    h ^= ((unsigned char)k[len / 2] | 0x20u) * 0x27D4EB2Fu;
    h ^= ((unsigned char)k[len > 1] | 0x20u) * 0x165667B1u; /* spellings alike at both ends */
    return h ^ (h >> 15);
}

/* Child of @p node named @p key, or LL__NODE_NONE. Inline: it runs for
 * every key of every line. */
static inline uint32_t ll__fieldset_child(const struct ll__fieldset *fs, uint32_t node,
                                          const char *key, size_t len)
{
    const struct ll__fnode *p = &fs->nodes[node];
    if (!p->table_mask)
        return LL__NODE_NONE;
    const uint32_t *tab = fs->tables + p->table;
    for (uint32_t h = ll__key_hash(key, len) & p->table_mask;; h = (h + 1) & p->table_mask) {
        uint32_t c = tab[h];
        if (c == LL__NODE_NONE)
            return LL__NODE_NONE;
        const struct ll__fnode *cn = &fs->nodes[c];
        if (cn->key.len != len)
            continue;
        if (p->nocase) {
            size_t i = 0;
            while (i < len && ll__lower((unsigned char)cn->key.ptr[i]) ==
                                  ll__lower((unsigned char)key[i]))
                i++;
            if (i == len)
                return c;
        } else if (ll_mem_eq(cn->key.ptr, key, len)) {
            return c;
        }
    }
}

#endif
