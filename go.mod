module github.com/isvkit/koogallery

go 1.24
