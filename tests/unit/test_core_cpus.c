/* The CPUs a process may use: its affinity, lowered by a CPU quota on its
 * cgroup or an ancestor (a container's CPU limit), in cgroup v2 and v1
 * layouts built in a temporary directory. */
#include "../testutil.h"

#include "logloom/core.h"

#include <sched.h>
#include <sys/stat.h>

static char root[512];

/* Writes @p text to root/@p rel, making its directories. */
static void put(const char *rel, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
        *p = '\0';
        mkdir(path, 0700);
        *p = '/';
    }
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static size_t usable(void)
{
    char self[600];
    snprintf(self, sizeof self, "%s/self-cgroup", root);
    return ll_cpus_usable(self, root);
}

static size_t affinity(void)
{
    cpu_set_t set;
    assert_int_equal(sched_getaffinity(0, sizeof set, &set), 0);
    return (size_t)CPU_COUNT(&set);
}

static int fresh(void **state)
{
    (void)state;
    char *t = make_tmpdir();
    snprintf(root, sizeof root, "%s", t);
    free(t);
    return 0;
}

static int gone(void **state)
{
    (void)state;
    rm_tree(root);
    return 0;
}

static void no_cgroup_file_is_the_affinity(void **state)
{
    (void)state;
    assert_int_equal(ll_cpus_usable(NULL, root), affinity());
    assert_int_equal(usable(), affinity()); /* self-cgroup does not exist */
}

static void a_v2_quota_on_an_ancestor_counts_rounded_up(void **state)
{
    (void)state;
    put("self-cgroup", "0::/kubepods/pod1/c1\n");
    put("kubepods/pod1/c1/cpu.max", "max 100000\n");
    assert_int_equal(usable(), affinity()); /* no quota anywhere */
    put("kubepods/pod1/cpu.max", "50000 100000\n"); /* half a CPU: one */
    assert_int_equal(usable(), 1);
    put("kubepods/pod1/cpu.max", "1000000 100000\n"); /* ten: the affinity is lower */
    assert_int_equal(usable(), affinity() < 10 ? affinity() : 10);
    put("kubepods/pod1/cpu.max", "garbage\n");
    assert_int_equal(usable(), affinity());
}

static void a_v1_cpu_hierarchy_is_found_by_its_controllers(void **state)
{
    (void)state;
    put("self-cgroup", "5:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n");
    put("cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "-1\n");
    put("cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
    assert_int_equal(usable(), affinity());
    put("cpu,cpuacct/docker/cpu.cfs_quota_us", "90000\n");
    put("cpu,cpuacct/docker/cpu.cfs_period_us", "100000\n");
    assert_int_equal(usable(), 1);
    /* Mounted as "cpu" alone, as some hosts do. */
    put("self-cgroup", "3:cpu:/job\n");
    put("cpu/job/cpu.cfs_quota_us", "100000\n");
    put("cpu/job/cpu.cfs_period_us", "100000\n");
    assert_int_equal(usable(), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(no_cgroup_file_is_the_affinity, fresh, gone),
        cmocka_unit_test_setup_teardown(a_v2_quota_on_an_ancestor_counts_rounded_up, fresh, gone),
        cmocka_unit_test_setup_teardown(a_v1_cpu_hierarchy_is_found_by_its_controllers, fresh,
                                        gone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
