// A counting allocator to preload into `ringwatt` (LD_PRELOAD), for the test that shows the
// training step allocates nothing. It exports rw_thread_allocations (the calling thread's count,
// which the trainer looks up and reports); its malloc and friends count per thread and forward to glibc's
// exported __libc_* entry points; at exit it prints the main thread's count (the thread that runs
// the training loop) on stderr:
//     allocation-counter: rank R main-thread allocations N
// Built by the test with the toolchain's C compiler: cc -shared -fPIC -O2 -o X.so allocation_counter.c
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static __thread unsigned long long allocations __attribute__((tls_model("initial-exec")));

// What Ringwatt's AllocationProbe looks up: the calling thread's count so far.
unsigned long long rw_thread_allocations(void) { return allocations; }

void *malloc(size_t n) { allocations++; return __libc_malloc(n); }
void *calloc(size_t count, size_t n) { allocations++; return __libc_calloc(count, n); }
void *realloc(void *p, size_t n) { allocations++; return __libc_realloc(p, n); }
void *memalign(size_t alignment, size_t n) { allocations++; return __libc_memalign(alignment, n); }
void *aligned_alloc(size_t alignment, size_t n) { allocations++; return __libc_memalign(alignment, n); }

int posix_memalign(void **out, size_t alignment, size_t n) {
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    allocations++;
    void *p = __libc_memalign(alignment, n);
    if (p == NULL) return ENOMEM;
    *out = p;
    return 0;
}

// Destructors run on the thread that returns from main (or calls exit): the training thread.
__attribute__((destructor)) static void report(void) {
    const char *rank = getenv("OMPI_COMM_WORLD_RANK");
    fprintf(stderr, "allocation-counter: rank %s main-thread allocations %llu\n", rank ? rank : "0", allocations);
}
