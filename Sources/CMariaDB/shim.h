// MariaDB Connector/C as a Swift module (Debian: libmariadb-dev), for the types of the functions
// QubeMemSystem looks up in libmariadb.so.3.
#include <mariadb/mysql.h>
