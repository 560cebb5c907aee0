#!/bin/sh
echo "no e2e tests yet"
