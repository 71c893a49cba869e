{
  "targets": [
    {
      "target_name": "csv_lane",
      "sources": ["csv_lane.cc"],
      "cflags_cc": ["-O2", "-std=c++17", "-fno-exceptions"],
      "cflags_cc!": ["-fno-rtti"]
    }
  ]
}
