{
  "targets": [
    {
      "target_name": "kts_packet",
      "sources": ["packet_socket.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
