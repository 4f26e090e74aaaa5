// When does a woken communication thread get a core while its rank computes? The trainer's
// pattern on one rank, with every core busy (run one per core, e.g. two at once on 2 cores): the
// main thread computes C µs and, at fraction F of it, posts a bucket to the communication thread
// (a semaphore), which then all-reduces — spins — D µs; main, done computing, waits for it.
// Prints the delay from the post to the thread's start (median, p10, p90 over N steps).
//   cc -O2 -pthread -o /tmp/wakeup-probe scripts/bench/wakeup-probe.c
//   /tmp/wakeup-probe 800 0.4 1000 2000 & /tmp/wakeup-probe 800 0.4 1000 2000; wait
// Results and what they mean for `ringwatt plan`: docs/measurements/plan-study-epyc.txt.
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <stdatomic.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static void spin(double s){double u=now()+s;while(now()<u);}
static sem_t go, done; static double D; static _Atomic double started; static volatile int stop=0;
static void* comm(void*a){for(;;){sem_wait(&go);if(stop)break;started=now();spin(D);sem_post(&done);}return 0;}
static int cmp(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
int main(int argc,char**argv){double C=atof(argv[1])*1e-6,F=atof(argv[2]);D=atof(argv[3])*1e-6;int n=atoi(argv[4]);
 sem_init(&go,0,0);sem_init(&done,0,0);pthread_t t;pthread_create(&t,0,comm,0);
 double *d=malloc(n*sizeof(double));
 for(int i=0;i<n;i++){spin(C*F);double s=now();started=0;sem_post(&go);spin(C*(1-F));sem_wait(&done);d[i]=started-s;}
 qsort(d,n,sizeof(double),cmp);printf("C %.0f us F %.2f D %.0f us: delay median %.0f us, p10 %.0f, p90 %.0f\n",C*1e6,F,D*1e6,d[n/2]*1e6,d[n/10]*1e6,d[9*n/10]*1e6);
 stop=1;sem_post(&go);pthread_join(t,0);return 0;}
