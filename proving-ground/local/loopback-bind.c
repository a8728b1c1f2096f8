/*
 * Loaded into Orthanc with LD_PRELOAD by the local stack (proving-ground/local/orthanc.ts).
 * Orthanc 1.10 has no setting for the address it listens on: its HTTP and DICOM
 * servers bind every interface. This turns a bind() to the wildcard address
 * (0.0.0.0 or ::) into a bind() to loopback (127.0.0.1 or ::1), so the stack is
 * reachable from this machine only. Binds to any other address pass unchanged.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*bind_function)(int, const struct sockaddr *, socklen_t);

int bind(int fd, const struct sockaddr *address, socklen_t length) {
  static bind_function next_bind;
  if (next_bind == NULL) next_bind = (bind_function)dlsym(RTLD_NEXT, "bind");

  if (address != NULL && address->sa_family == AF_INET && length >= sizeof(struct sockaddr_in)) {
    struct sockaddr_in v4;
    memcpy(&v4, address, sizeof v4);
    if (v4.sin_addr.s_addr == htonl(INADDR_ANY)) {
      v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      return next_bind(fd, (const struct sockaddr *)&v4, sizeof v4);
    }
  }
  if (address != NULL && address->sa_family == AF_INET6 && length >= sizeof(struct sockaddr_in6)) {
    struct sockaddr_in6 v6;
    memcpy(&v6, address, sizeof v6);
    if (memcmp(&v6.sin6_addr, &in6addr_any, sizeof v6.sin6_addr) == 0) {
      v6.sin6_addr = in6addr_loopback;
      return next_bind(fd, (const struct sockaddr *)&v6, sizeof v6);
    }
  }
  return next_bind(fd, address, length);
}
