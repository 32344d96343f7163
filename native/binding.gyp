{
  "targets": [
    {
      "target_name": "kts_packet",
      "sources": ["packet_socket.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    },
    {
      "target_name": "kts_reaper",
      "sources": ["reaper.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    },
    {
      "target_name": "kts_connect",
      "sources": ["tcp_connect.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    },
    {
      "target_name": "kts_vrrp_rx",
      "sources": ["vrrp_rx.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
