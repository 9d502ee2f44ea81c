/* CPUs a process may use: see core.h. */
#include "logloom/core.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The first line of @p path into @p buf; false if unreadable. */
static bool read_line(const char *path, char *buf, size_t size)
{
    FILE *fp = fopen(path, "re");
    if (!fp)
        return false;
    bool ok = fgets(buf, (int)size, fp) != NULL;
    fclose(fp);
    return ok;
}

/* CPUs a quota of @p quota microseconds per @p period allows, rounded up
 * (0: no quota). */
static size_t quota_cpus(long long quota, long long period)
{
    if (quota <= 0 || period <= 0)
        return 0;
    return (size_t)((quota + period - 1) / period);
}

/* The tightest quota on cgroup @p cg under @p root, or on an ancestor (0: none).
 * cgroup v2 keeps "QUOTA PERIOD" (or "max PERIOD") in cpu.max; v1 keeps
 * cpu.cfs_quota_us (-1: none) and cpu.cfs_period_us. */
static size_t tightest(const char *root, const char *cg, bool v2)
{
    char dir[1024], path[1100], line[128];
    snprintf(dir, sizeof dir, "%s%s", root, cg);
    size_t best = 0, root_len = strlen(root);
    for (;;) {
        size_t n = 0;
        if (v2) {
            snprintf(path, sizeof path, "%s/cpu.max", dir);
            char q[32];
            long long period;
            if (read_line(path, line, sizeof line) &&
                sscanf(line, "%31s %lld", q, &period) == 2 && strcmp(q, "max") != 0)
                n = quota_cpus(atoll(q), period);
        } else {
            char pline[128];
            snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir);
            bool ok = read_line(path, line, sizeof line);
            snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir);
            if (ok && read_line(path, pline, sizeof pline))
                n = quota_cpus(atoll(line), atoll(pline));
        }
        if (n && (!best || n < best))
            best = n;
        char *slash = strrchr(dir, '/');
        if (!slash || (size_t)(slash - dir) < root_len)
            return best;
        *slash = '\0';
    }
}

size_t ll_cpus_usable(const char *proc_cgroup, const char *cgroup_root)
{
    size_t n = 0;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = (size_t)CPU_COUNT(&set);
    if (!n) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (size_t)c : 1;
    }
    FILE *fp = proc_cgroup ? fopen(proc_cgroup, "re") : NULL;
    if (!fp)
        return n;
    char line[1024];
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = '\0';
        /* ID:CONTROLLERS:PATH */
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2 || c2[1] != '/')
            continue;
        *c2 = '\0';
        const char *controllers = c1 + 1, *cg = strcmp(c2 + 1, "/") == 0 ? "" : c2 + 1;
        size_t limit = 0;
        if (strcmp(line, "0:") == 0) { /* v2: hierarchy 0, no controllers named */
            limit = tightest(cgroup_root, cg, true);
        } else {
            /* v1: the hierarchy that has "cpu" among its controllers. */
            char list[256];
            snprintf(list, sizeof list, ",%s,", controllers);
            if (!strstr(list, ",cpu,"))
                continue;
            char root[600];
            snprintf(root, sizeof root, "%s/%s", cgroup_root, controllers);
            limit = tightest(root, cg, false);
            if (!limit) { /* mounted under the name "cpu" alone */
                snprintf(root, sizeof root, "%s/cpu", cgroup_root);
                limit = tightest(root, cg, false);
            }
        }
        if (limit && limit < n)
            n = limit;
    }
    fclose(fp);
    return n ? n : 1;
}
