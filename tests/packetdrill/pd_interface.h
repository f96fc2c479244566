/*
 * pd_interface.h -- the function table of packetdrill's shared-object mode,
 * written for purenet from the description in ../shared/packetdrill-so.md
 * (section 2.2). The member order is the ABI: packetdrill fills nothing
 * and checks nothing, it calls through these slots by position.
 *
 * All calls return what the POSIX call would and set errno on failure.
 * Constants arrive with Linux values. `ud` is the userdata member.
 */
#ifndef PD_INTERFACE_H
#define PD_INTERFACE_H

#include <poll.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

struct packetdrill_interface {
    void *userdata;                                                            /*  0 */
    void (*free)(void *ud);                                                    /*  1 */
    int (*socket)(void *ud, int domain, int type, int protocol);              /*  2 */
    int (*bind)(void *ud, int fd, const struct sockaddr *a, socklen_t alen);  /*  3 */
    int (*listen)(void *ud, int fd, int backlog);                             /*  4 */
    int (*accept)(void *ud, int fd, struct sockaddr *a, socklen_t *alen);     /*  5 */
    int (*connect)(void *ud, int fd, const struct sockaddr *a, socklen_t alen); /* 6 */
    ssize_t (*read)(void *ud, int fd, void *buf, size_t n);                   /*  7 */
    ssize_t (*readv)(void *ud, int fd, const struct iovec *iov, int iovcnt);  /*  8 */
    ssize_t (*recv)(void *ud, int fd, void *buf, size_t n, int flags);        /*  9 */
    ssize_t (*recvfrom)(void *ud, int fd, void *buf, size_t n, int flags,
                        struct sockaddr *a, socklen_t *alen);                 /* 10 */
    ssize_t (*recvmsg)(void *ud, int fd, struct msghdr *m, int flags);        /* 11 */
    ssize_t (*write)(void *ud, int fd, const void *buf, size_t n);            /* 12 */
    ssize_t (*writev)(void *ud, int fd, const struct iovec *iov, int iovcnt); /* 13 */
    ssize_t (*send)(void *ud, int fd, const void *buf, size_t n, int flags);  /* 14 */
    ssize_t (*sendto)(void *ud, int fd, const void *buf, size_t n, int flags,
                      const struct sockaddr *a, socklen_t alen);              /* 15 */
    ssize_t (*sendmsg)(void *ud, int fd, const struct msghdr *m, int flags);  /* 16 */
    int (*fcntl)(void *ud, int fd, int cmd, ...);                             /* 17 */
    int (*ioctl)(void *ud, int fd, unsigned long req, ...);                   /* 18 */
    int (*close)(void *ud, int fd);                                           /* 19 */
    int (*shutdown)(void *ud, int fd, int how);                               /* 20 */
    int (*getsockopt)(void *ud, int fd, int level, int name, void *val,
                      socklen_t *vlen);                                       /* 21 */
    int (*setsockopt)(void *ud, int fd, int level, int name, const void *val,
                      socklen_t vlen);                                        /* 22 */
    int (*poll)(void *ud, struct pollfd *fds, nfds_t nfds, int timeout_ms);   /* 23 */
    int (*netdev_send)(void *ud, const void *pkt, size_t len);                /* 24 */
    int (*netdev_receive)(void *ud, void *buf, size_t *len, long long *t_us); /* 25 */
    int (*usleep)(void *ud, useconds_t us);                                   /* 26 */
    int (*gettimeofday)(void *ud, struct timeval *tv, void *tz);              /* 27 */
    int (*epoll_create)(void *ud, int size);                                  /* 28 */
    int (*epoll_ctl)(void *ud, int epfd, int op, int fd, struct epoll_event *ev); /* 29 */
    int (*epoll_wait)(void *ud, int epfd, struct epoll_event *ev, int maxev,
                      int timeout_ms);                                        /* 30 */
    int (*pipe)(void *ud, int fds[2]);                                        /* 31 */
    int (*splice)(void *ud, int fd_in, loff_t *off_in, int fd_out, loff_t *off_out,
                  size_t len, unsigned int flags);                            /* 32 */
};

/* The entry point packetdrill looks up with dlsym. flags is --so_flags
 * verbatim, or NULL. Called once per script. */
typedef void (*packetdrill_interface_init_fn)(const char *flags, struct packetdrill_interface *ifc);
void packetdrill_interface_init(const char *flags, struct packetdrill_interface *ifc);

#endif
