/* Field paths: syntax, and the trie with per-node hash tables the decoder
 * walks while it parses. */
#include "fields.h"
#include "logloom/ingest.h"

#include <string.h>

static uint32_t node_add(struct ll__fieldset *fs, uint32_t parent, struct ll_str key)
{
    fs->nodes = ll_reallocarray(fs->nodes, fs->n_nodes + 1, sizeof *fs->nodes);
    uint32_t idx = (uint32_t)fs->n_nodes++;
    struct ll__fnode *nd = &fs->nodes[idx];
    *nd = (struct ll__fnode){.key = ll_arena_dup(&fs->names, key),
                             .first_child = LL__NODE_NONE,
                             .next_sibling = LL__NODE_NONE};
    nd->nocase = ll_str_eq_nocase(key, LL_STR("headers"));
    if (parent != LL__NODE_NONE) {
        nd->next_sibling = fs->nodes[parent].first_child;
        fs->nodes[parent].first_child = idx;
    }
    return idx;
}

static uint32_t child_find_slow(const struct ll__fieldset *fs, uint32_t parent,
                                struct ll_str key)
{
    const struct ll__fnode *p = &fs->nodes[parent];
    for (uint32_t c = p->first_child; c != LL__NODE_NONE; c = fs->nodes[c].next_sibling)
        if (p->nocase ? ll_str_eq_nocase(fs->nodes[c].key, key)
                      : ll_str_eq(fs->nodes[c].key, key))
            return c;
    return LL__NODE_NONE;
}

int ll__fieldset_add(struct ll__fieldset *fs, const char *path, enum ll__field field,
                     uint16_t prio, uint8_t types, char *errstr, size_t errstr_size)
{
    struct ll_str comp[LL_PATH_MAX_PARTS];
    size_t n;
    char *scratch = ll_malloc(strlen(path) + 1);
    int rc = ll_field_path_parse(path, scratch, comp, &n, errstr, errstr_size);
    if (rc != LL_OK)
        goto done;
    if (fs->n_nodes == 0) {
        ll_arena_init(&fs->names, 1024);
        node_add(fs, LL__NODE_NONE, LL_STR(""));
    }
    uint32_t node = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = child_find_slow(fs, node, comp[i]);
        node = c != LL__NODE_NONE ? c : node_add(fs, node, comp[i]);
    }
    fs->targets = ll_reallocarray(fs->targets, fs->n_targets + 1, sizeof *fs->targets);
    fs->owners = ll_reallocarray(fs->owners, fs->n_targets + 1, sizeof *fs->owners);
    fs->targets[fs->n_targets] = (struct ll__target){(uint16_t)field, prio, types};
    fs->owners[fs->n_targets++] = node;
done:
    ll_free(scratch);
    return rc;
}

/* Groups targets by node (stable, so priorities keep their order) and builds
 * each node's open-addressing child table. */
void ll__fieldset_seal(struct ll__fieldset *fs)
{
    struct ll__target *sorted = ll_calloc(fs->n_targets, sizeof *sorted);
    size_t k = 0;
    for (size_t nd = 0; nd < fs->n_nodes; nd++) {
        fs->nodes[nd].target_off = (uint32_t)k;
        fs->nodes[nd].n_targets = 0;
        for (size_t t = 0; t < fs->n_targets; t++)
            if (fs->owners[t] == nd) {
                sorted[k++] = fs->targets[t];
                fs->nodes[nd].n_targets++;
            }
    }
    ll_free(fs->targets);
    ll_free(fs->owners);
    fs->targets = sorted;
    fs->owners = NULL;

    for (size_t nd = 0; nd < fs->n_nodes; nd++) {
        struct ll__fnode *p = &fs->nodes[nd];
        size_t nchild = 0;
        for (uint32_t c = p->first_child; c != LL__NODE_NONE; c = fs->nodes[c].next_sibling)
            nchild++;
        if (!nchild)
            continue;
        size_t size = 4;
        while (size < nchild * 4)
            size *= 2;
        p->table = (uint32_t)fs->n_tables;
        p->table_mask = (uint32_t)(size - 1);
        fs->tables = ll_reallocarray(fs->tables, fs->n_tables + size, sizeof *fs->tables);
        uint32_t *tab = fs->tables + fs->n_tables;
        for (size_t i = 0; i < size; i++)
            tab[i] = LL__NODE_NONE;
        fs->n_tables += size;
        for (uint32_t c = p->first_child; c != LL__NODE_NONE; c = fs->nodes[c].next_sibling) {
            uint32_t h = ll__key_hash(fs->nodes[c].key.ptr, fs->nodes[c].key.len) & p->table_mask;
            while (tab[h] != LL__NODE_NONE)
                h = (h + 1) & p->table_mask;
            tab[h] = c;
        }
    }
}

void ll__fieldset_free(struct ll__fieldset *fs)
{
    ll_free(fs->nodes);
    ll_free(fs->targets);
    ll_free(fs->owners);
    ll_free(fs->tables);
    ll_arena_free(&fs->names);
    *fs = (struct ll__fieldset){0};
}
