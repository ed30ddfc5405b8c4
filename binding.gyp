{
  "targets": [
    {
      "target_name": "riocache",
      "sources": [
        "native/addon.cc",
        "native/mapping.cc",
        "native/persist.cc",
        "native/crc32c.cc",
        "native/files.cc",
        "native/fastcalls.cc",
        "native/reads.cc"
      ],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-fno-exceptions"],
      "cflags_cc!": ["-fno-rtti"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
