/* db_fetch: what one statement costs the server and a client through libmariadb, read three ways.
 *
 *   cc -O2 -o /tmp/db_fetch bench/audit/db_fetch.c $(mariadb_config --cflags --libs)
 *   /tmp/db_fetch SOCKET DATABASE MARIADBD_PID MODE "SQL"
 *
 * MODE: text     the text protocol, the connection in utf8mb4 (how qubemem reads today);
 *       raw      the text protocol with character_set_results=NULL (the server sends the stored
 *                bytes, no conversion);
 *       binary   a prepared statement (the binary protocol: integers are sent as integers), raw.
 * Prints rows, bytes of field data, the server's CPU (from /proc/PID/stat) and this process's CPU
 * over the read. A measuring tool for BENCHMARKS.md, not part of qubemem.
 */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static double server_cpu(const char *pid) {
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    /* fields after ")": state(3) ... utime(14) stime(15) */
    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
    return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

static double own_cpu(void) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
}

static void die(MYSQL *m, const char *what) {
    fprintf(stderr, "db_fetch: %s: %s\n", what, mysql_error(m));
    exit(1);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: db_fetch SOCKET DATABASE MARIADBD_PID text|raw|binary SQL\n");
        return 64;
    }
    const char *mode = argv[4], *sql = argv[5];
    MYSQL *m = mysql_init(NULL);
    mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (!mysql_real_connect(m, NULL, "root", NULL, argv[2], 0, argv[1], 0)) die(m, "connect");
    if (strcmp(mode, "text") && mysql_query(m, "SET character_set_results = NULL")) die(m, "set");
    unsigned long long rows = 0, bytes = 0;
    double s0 = server_cpu(argv[3]), c0 = own_cpu();
    if (!strcmp(mode, "binary")) {
        MYSQL_STMT *st = mysql_stmt_init(m);
        if (mysql_stmt_prepare(st, sql, strlen(sql))) die(m, mysql_stmt_error(st));
        if (mysql_stmt_execute(st)) die(m, mysql_stmt_error(st));
        MYSQL_RES *meta = mysql_stmt_result_metadata(st);
        unsigned n = mysql_num_fields(meta);
        MYSQL_FIELD *fields = mysql_fetch_fields(meta);
        MYSQL_BIND *b = calloc(n, sizeof *b);
        unsigned long *len = calloc(n, sizeof *len);
        my_bool *null = calloc(n, sizeof *null);
        char (*buf)[1024] = calloc(n, 1024);
        for (unsigned i = 0; i < n; i++) {
            int integer = fields[i].type == MYSQL_TYPE_LONG || fields[i].type == MYSQL_TYPE_LONGLONG
                || fields[i].type == MYSQL_TYPE_TINY || fields[i].type == MYSQL_TYPE_SHORT;
            b[i].buffer_type = integer ? MYSQL_TYPE_LONGLONG : MYSQL_TYPE_STRING;
            b[i].buffer = buf[i];
            b[i].buffer_length = integer ? 8 : 1024;
            b[i].length = &len[i];
            b[i].is_null = &null[i];
            b[i].is_unsigned = (fields[i].flags & UNSIGNED_FLAG) != 0;
        }
        if (mysql_stmt_bind_result(st, b)) die(m, mysql_stmt_error(st));
        int r;
        while ((r = mysql_stmt_fetch(st)) == 0 || r == MYSQL_DATA_TRUNCATED) {
            rows++;
            for (unsigned i = 0; i < n; i++) bytes += len[i];
        }
        if (r != MYSQL_NO_DATA) die(m, mysql_stmt_error(st));
        mysql_stmt_close(st);
    } else {
        if (mysql_query(m, sql)) die(m, "query");
        MYSQL_RES *res = mysql_use_result(m);
        if (!res) die(m, "use_result");
        unsigned n = mysql_num_fields(res);
        MYSQL_ROW row;
        while ((row = mysql_fetch_row(res))) {
            unsigned long *l = mysql_fetch_lengths(res);
            rows++;
            for (unsigned i = 0; i < n; i++) bytes += l[i];
        }
        if (mysql_errno(m)) die(m, "fetch");
        mysql_free_result(res);
    }
    double s1 = server_cpu(argv[3]), c1 = own_cpu();
    printf("%-6s rows %llu  bytes %llu  server %.2f s  client %.2f s  :: %.100s\n", mode, rows, bytes, s1 - s0,
           c1 - c0, sql);
    mysql_close(m);
    return 0;
}
