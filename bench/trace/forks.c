/* 1000 x fork + _exit + waitpid: the fork-heavy program of bench/trace.sh. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    for (int i = 0; i < n; i++) {
        pid_t child = fork();
        if (child < 0)
            return 1;
        if (child == 0)
            _exit(0);
        if (waitpid(child, NULL, 0) != child)
            return 1;
    }
    return 0;
}
