/* Two threads pass a lock back and forth 100,000 times (a mutex and a condition variable,
 * strict turns): the futex-heavy program of bench/trace.sh. Each pass is a futex wait. */
#include <pthread.h>
#include <stdlib.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turned = PTHREAD_COND_INITIALIZER;
static int turn = 0;
static int passes;

static void *player(void *arg) {
    int me = (int)(long)arg;
    pthread_mutex_lock(&lock);
    while (passes > 0) {
        while (turn != me && passes > 0)
            pthread_cond_wait(&turned, &lock);
        if (passes > 0) {
            passes--;
            turn = 1 - me;
            pthread_cond_broadcast(&turned);
        }
    }
    pthread_cond_broadcast(&turned);
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(int argc, char **argv) {
    passes = argc > 1 ? atoi(argv[1]) : 100000;
    pthread_t a, b;
    pthread_create(&a, NULL, player, (void *)0L);
    pthread_create(&b, NULL, player, (void *)1L);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return 0;
}
